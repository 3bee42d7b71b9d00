"""autodiff.onnx.export: the exported graph run in onnxruntime equals eager — the op table walked
sample by sample, the digits MLP, a CNN (PyTorch's MNIST example) and a transformer encoder
layer, with dynamic axes; an op with no ONNX equivalent is named."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff import nn
from autodiff.onnx import UnsupportedOperatorError
from tests.op_db import OP_DB, OpInfo, Sample

onnxruntime = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _session(data: bytes):
    return onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])


def _export(model, args, **options) -> bytes:
    buffer = io.BytesIO()
    autodiff.onnx.export(model, args, buffer, **options)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- the op table
# Exports whose values, computed by an operation the export does not see, its check (the call
# again on the inputs' elements reordered) leaves unchanged: frozen as constants.
UNCAUGHT: dict[str, str] = {}
CASES = [pytest.param(info, sample, id=f"{info.name}-{index}", marks=[pytest.mark.xfail(
            reason=UNCAUGHT[f"{info.name}-{index}"], strict=True)]
            if f"{info.name}-{index}" in UNCAUGHT else [])
         for info in OP_DB for index, sample in enumerate(info.samples)]


def _inputs(info: OpInfo, sample: Sample, seed: int = 0) -> list[autodiff.Tensor]:
    rng = np.random.default_rng(seed)
    low, high = info.domain
    return [autodiff.tensor(rng.uniform(low, high, size=shape), dtype=autodiff.float32)
            for shape in sample.shapes]


def _flat(result) -> list[autodiff.Tensor]:
    if isinstance(result, autodiff.Tensor):
        return [result]
    return [tensor for item in result for tensor in _flat(item)]


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_op_table_exports_or_names_the_op(info: OpInfo, sample: Sample) -> None:
    """Each forward sample either exports and runs in onnxruntime to eager's values, or stops
    with UnsupportedOperatorError naming the op that has no ONNX equivalent (or another
    reason the graph cannot hold the call: a data-dependent shape, a dtype)."""
    inputs = _inputs(info, sample)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with autodiff.no_grad():
                expected = _flat(info.op(*[tensor.clone() for tensor in inputs]))
        except Exception as error:  # the sample needs other inputs than uniform float32
            pytest.skip(f"eager refuses these inputs: {type(error).__name__}")
        try:
            data = _export(lambda *tensors: info.op(*tensors),
                           tuple(tensor.clone() for tensor in inputs))
        except UnsupportedOperatorError as error:
            message = str(error)
            assert message.startswith(("Exporting the operator '", "autodiff.onnx.export: "))
            return
    session = _session(data)
    got = session.run(None, {item.name: tensor.numpy()
                             for item, tensor in zip(session.get_inputs(), inputs)})
    assert len(got) == len(expected)
    for value, reference in zip(got, expected):
        np.testing.assert_allclose(value, reference.numpy(), rtol=1e-4, atol=1e-5)
    # other inputs of the same shapes: a value the export froze as a constant shows here
    others = _inputs(info, sample, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with autodiff.no_grad():
                expected = _flat(info.op(*[tensor.clone() for tensor in others]))
        except Exception:
            return
    got = session.run(None, {item.name: tensor.numpy()
                             for item, tensor in zip(session.get_inputs(), others)})
    for value, reference in zip(got, expected):
        np.testing.assert_allclose(value, reference.numpy(), rtol=1e-4, atol=1e-5)


# The ONNX operators these op-table entries must export to (each also checked above for its
# values): a regression to "not supported" fails here.
MUST_EXPORT = {
    "F.conv2d_stride_padding_dilation": "Conv", "F.conv2d_groups": "Conv",
    "F.conv1d": "Conv", "F.conv3d": "Conv", "F.conv_transpose2d": "ConvTranspose",
    "F.conv_transpose2d_groups_dilation": "ConvTranspose",
    "F.max_pool2d_padding_ceil": "MaxPool", "F.avg_pool2d": "AveragePool",
    "F.batch_norm_eval": "BatchNormalization", "layer_norm": "LayerNormalization",
    "getitem_slice": "Slice", "gather": "GatherElements", "index_select": "Gather",
    "getitem_broadcast": "GatherND", "scatter": "ScatterElements",
    "F.softmax": "Softmax", "F.log_softmax": "LogSoftmax", "F.gelu": "Erf", "where": "Where",
    "expand": "Expand",
    "permute": "Transpose", "cat": "Concat", "split": "Split", "einsum[bij,bjk->bik]": "Einsum",
    "matmul_batched": "MatMul", "linear": "Gemm", "sum_dims_keepdim": "ReduceSum",
    "amax": "ReduceMax", "pad": "Pad", "tril": "Trilu", "cumsum": "CumSum", "sort": "TopK",
    "setitem_advanced": "ScatterND", "F.interpolate_bilinear": "Gather",
    "pad_reflect": "Pad", "var": "ReduceSum", "max_dim": "ArgMax",
    "rnn.rnn_tanh_layer": "RNN", "rnn.rnn_relu_layer_reverse": "RNN", "rnn.gru_layer": "GRU",
    "rnn.lstm_layer": "LSTM", "rnn.lstm_layer_c_n": "LSTM", "rnn.lstm_cell": "Sigmoid",
    "rnn.gru_cell": "Sigmoid", "floor_divide": "Mod", "floor_divide_int": "Mod",
    "div_floor": "Mod", "div_trunc": "Div", "remainder": "Mod", "fmod": "Mod",
    "diagonal_dims": "Gather", "diagonal_negative_offset": "Gather", "unbind": "Split",
    "roll": "Concat", "F.hardsigmoid": "HardSigmoid", "F.hardswish": "HardSwish",
    "F.softshrink": "Shrink", "F.hardshrink": "Shrink", "logsumexp": "ReduceLogSumExp",
    "F.pixel_shuffle": "DepthToSpace", "F.glu": "Split", "F.mish": "Softplus",
    "log1p": "Log", "rad2deg": "Mul", "frac": "Floor", "sgn": "Sign",
    "cross_entropy_weight": "NegativeLogLikelihoodLoss",
    "cross_entropy_4d": "NegativeLogLikelihoodLoss", "F.grid_sample": "GridSample",
    "F.grid_sample_border_nearest": "GridSample", "linalg.det": "Det", "take": "Gather",
    "trace": "ReduceSum", "masked_fill_tensor": "Where", "clamp_tensor": "Max", "std": "Sqrt",
    "var_mean": "ReduceMean", "einsum[ij->ji]": "Einsum", "acosh_": "Acosh",
    "F.leaky_relu_": "LeakyRelu", "F.selu_": "Elu",
    "F.group_norm": "ReduceMean", "F.group_norm_no_affine": "ReduceMean",
    "F.adaptive_avg_pool2d": "Gather", "F.adaptive_avg_pool3d": "Gather",
    "F.adaptive_max_pool2d": "Max", "F.adaptive_max_pool3d": "Max",
    "F.max_unpool2d": "ScatterElements", "F.max_unpool3d": "ScatterElements",
    "F.unfold": "Slice", "F.fold": "ScatterElements", "F.affine_grid": "MatMul",
    "F.affine_grid_3d": "MatMul", "index_add": "ScatterElements",
    "index_copy": "ScatterElements", "atan2": "Atan", "expm1": "Exp", "logit": "Log",
    "lerp": "Where", "mse_loss_mean": "ReduceSum", "binary_cross_entropy": "Log",
    "F.batch_norm": "ReduceMean", "F.avg_pool2d_divisor_override": "AveragePool",
    "norm_inf": "ReduceMax", "kthvalue": "TopK", "addmv": "MatMul", "bilinear": "Einsum",
    "rot90": "Transpose", "F.pixel_unshuffle": "Transpose", "diag_embed": "Gather",
    "unfold": "Gather", "select_scatter": "ScatterElements", "put": "ScatterElements",
    "eq_": "Equal", "lt": "Less", "isnan": "IsNaN", "argmax": "ArgMax", "any": "ReduceMax",
    "cdist": "ReduceL2", "pdist_1.0": "ReduceL1", "renorm": "Where", "kron": "Mul",
    "tensordot": "Einsum", "as_strided": "Gather", "as_strided_of_a_view": "Gather",
    "as_strided_": "Gather", "as_strided_scatter": "ScatterElements",
    "scatter_reduce_mean": "ScatterElements", "scatter_reduce_sum_exclude_self": "ScatterElements",
    "scatter_reduce_prod_exclude_self": "ScatterElements", "index_reduce_prod": "ScatterElements",
    "index_reduce_mean_exclude_self": "ScatterElements", "masked_scatter": "CumSum",
    "scaled_dot_product_attention_gqa": "Expand", "cumprod": "ReduceProd",
    "logcumsumexp": "ReduceLogSumExp", "cummax": "ArgMax", "cummin": "ArgMin", "median": "TopK",
    "nonzero": "NonZero", "masked_select": "Compress", "unique": "Compress",
    "searchsorted": "GreaterOrEqual", "one_hot": "OneHot", "embedding_bag_sum": "ScatterElements",
    "embedding_bag_max": "ReduceMax", "multi_margin_loss_2_sum": "GatherElements",
    "setitem_basic": "ScatterElements", "copy_": "Expand", "view_mul_": "ScatterElements",
    "pad_circular": "ScatterElements",
    "bitwise_left_shift": "Mul", "bitwise_right_shift": "Mod",
    "multilabel_margin_loss_mean": "CumSum",
}


@pytest.mark.parametrize("name", sorted(MUST_EXPORT))
def test_named_ops_export_to_their_onnx_operator(name: str) -> None:
    matches = [info for info in OP_DB if info.name == name]
    if not matches:
        pytest.fail(f"no op-table entry {name!r}")
    info = matches[0]
    inputs = _inputs(info, info.samples[0])
    # (optimize=False: the converter's node, even where the output it makes goes unread)
    data = _export(lambda *tensors: info.op(*tensors), tuple(tensor.clone() for tensor in inputs),
                   optimize=False)
    kinds = {node.op_type for node in onnx.load_from_string(data).graph.node}
    assert MUST_EXPORT[name] in kinds, kinds


@pytest.mark.parametrize(("info", "sample"), [
    case for case in CASES if case.values[0].name.startswith(("scatter_reduce_am",
                                                               "index_reduce_am"))])
def test_max_and_min_scatter_reductions_export_from_opset_18(info: OpInfo, sample: Sample,
                                                             ) -> None:
    """ScatterElements reduces by max and min from opset 18; below it they are refused."""
    inputs = _inputs(info, sample)
    with autodiff.no_grad():
        (expected,) = _flat(info.op(*[tensor.clone() for tensor in inputs]))
    with pytest.raises(UnsupportedOperatorError, match="below opset 18"):
        _export(lambda *tensors: info.op(*tensors), tuple(t.clone() for t in inputs))
    data = _export(lambda *tensors: info.op(*tensors), tuple(t.clone() for t in inputs),
                   opset_version=18)
    session = _session(data)
    (got,) = session.run(None, {item.name: tensor.numpy()
                                for item, tensor in zip(session.get_inputs(), inputs)})
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-6)


def test_an_op_without_onnx_form_is_named() -> None:
    with pytest.raises(UnsupportedOperatorError,
                       match=r"Exporting the operator 'aten::lgamma' to ONNX opset version 17 "
                             "is not supported"):
        _export(lambda t: (t * 2).lgamma().exp(), (autodiff.ones(3),))
    assert issubclass(UnsupportedOperatorError, RuntimeError)


# ----------------------------------------------------------------------------- models
def _check(data: bytes, model, batches, names=("input_0",)) -> None:
    session = _session(data)
    for batch in batches:
        (got,) = session.run(None, {names[0]: batch.numpy()})
        with autodiff.no_grad():
            expected = model(batch).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_digits_mlp_runs_in_onnxruntime() -> None:
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10), nn.LogSoftmax(1))
    data = _export(model, (autodiff.randn(8, 64),), input_names=["pixels"],
                   output_names=["log_probs"],
                   dynamic_axes={"pixels": {0: "batch"}, "log_probs": {0: "batch"}})
    graph = onnx.load_from_string(data).graph
    assert [item.name for item in graph.input] == ["pixels"]
    assert [item.name for item in graph.output] == ["log_probs"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    _check(data, model, [autodiff.randn(8, 64), autodiff.randn(3, 64)], ["pixels"])


class _MnistNet(nn.Module):
    """PyTorch's examples/mnist network, smaller."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(16 * 6 * 6, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: autodiff.Tensor) -> autodiff.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = autodiff.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def test_cnn_runs_in_onnxruntime_with_a_dynamic_batch() -> None:
    """Exported from a model in training mode: the export runs it in eval mode (dropout off,
    torch.onnx's default) and leaves it in training mode."""
    autodiff.manual_seed(0)
    model = _MnistNet()
    data = _export(model, (autodiff.randn(4, 1, 16, 16),), input_names=["image"],
                   output_names=["log_probs"], dynamic_axes={"image": {0: "batch"},
                                                             "log_probs": {0: "batch"}})
    assert model.training
    kinds = {node.op_type for node in onnx.load_from_string(data).graph.node}
    assert {"Conv", "MaxPool", "Relu", "Gemm", "LogSoftmax"} <= kinds
    model.eval()
    _check(data, model, [autodiff.randn(4, 1, 16, 16), autodiff.randn(7, 1, 16, 16),
                         autodiff.randn(1, 1, 16, 16)], ["image"])


@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_encoder_layer_runs_in_onnxruntime(batch_first: bool) -> None:
    autodiff.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=batch_first,
                                       activation="gelu")
    axis = 0 if batch_first else 1

    def make(batch: int) -> autodiff.Tensor:
        return autodiff.randn(batch, 5, 16) if batch_first else autodiff.randn(5, batch, 16)

    data = _export(layer, (make(3),), dynamic_axes={"input_0": {axis: "batch"},
                                                    "output_0": {axis: "batch"}})
    kinds = {node.op_type for node in onnx.load_from_string(data).graph.node}
    assert {"LayerNormalization", "Softmax", "MatMul"} <= kinds
    layer.eval()
    _check(data, layer, [make(3), make(2), make(6)])


def test_in_place_ops_are_followed() -> None:
    def model(x: autodiff.Tensor) -> autodiff.Tensor:
        y = x * 2
        y.add_(1.0)
        y.relu_()
        y.mul_(x)
        return y

    x = autodiff.randn(3, 4)
    data = _export(model, (x,))
    (got,) = _session(data).run(None, {"input_0": x.numpy()})
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-6)


def test_writes_through_views_reach_their_base() -> None:
    """Slice assignments and in-place ops on views change the base at the view's elements,
    also through a view of a view and a transposed view."""
    def model(x: autodiff.Tensor, v: autodiff.Tensor) -> autodiff.Tensor:
        y = x * 2
        y[:, 0] = v
        y[1:, 2:].mul_(-1.0)
        y.t()[1].add_(v[0])
        y[0][::2] = 5.0
        return y

    x, v = autodiff.randn(3, 4), autodiff.randn(3)
    data = _export(model, (x, v))
    session = _session(data)
    for seed in (1, 2):
        x, v = autodiff.randn(3, 4, generator=autodiff.Generator().manual_seed(seed)), \
            autodiff.randn(3, generator=autodiff.Generator().manual_seed(seed + 10))
        (got,) = session.run(None, {"input_0": x.numpy(), "input_1": v.numpy()})
        np.testing.assert_array_equal(got, model(x, v).numpy())


def test_a_buffer_the_model_makes_and_fills() -> None:
    """A tensor made in the forward (a constant when first read) and then written through
    views is followed: its first-read values are checked against the second call's."""
    def model(x: autodiff.Tensor) -> autodiff.Tensor:
        buffer = autodiff.zeros(3, 6)
        buffer[:, 1:5] = x
        buffer[:, 0] = x[:, -1]
        return buffer * 2

    data = _export(model, (autodiff.randn(3, 4),))
    other = autodiff.randn(3, 4, generator=autodiff.Generator().manual_seed(3))
    (got,) = _session(data).run(None, {"input_0": other.numpy()})
    np.testing.assert_array_equal(got, model(other).numpy())


def test_a_tensor_made_from_the_inputs_unseen_and_then_written_is_refused() -> None:
    def model(x: autodiff.Tensor) -> autodiff.Tensor:
        made = autodiff.tensor(x.numpy() * 3)  # (outside the ops the export sees)
        made[0] = 1.0
        return made + x

    with pytest.raises(UnsupportedOperatorError, match="does not see"):
        _export(model, (autodiff.randn(3, 4),))


def test_a_view_read_after_its_base_changed_is_refused() -> None:
    """A view the export named before its base was written is out of date: refused rather
    than exported with its old values."""
    def model(x: autodiff.Tensor) -> autodiff.Tensor:
        y = x * 2
        first = y[0]
        y.add_(1.0)
        return first * 3

    with pytest.raises(UnsupportedOperatorError, match="changed in place"):
        _export(model, (autodiff.randn(3, 4),))


def test_a_reshape_with_two_dynamic_sizes_is_refused() -> None:
    def model(x: autodiff.Tensor) -> autodiff.Tensor:
        return x.flatten().reshape(x.shape[0], x.shape[1])

    with pytest.raises(UnsupportedOperatorError, match="more than one dynamic size"):
        _export(model, (autodiff.randn(3, 4),), dynamic_axes={"input_0": [0, 1]})


def test_names_must_match_the_inputs_and_outputs() -> None:
    with pytest.raises(ValueError, match="1 inputs, but 2 input_names"):
        _export(lambda t: t + 1, (autodiff.ones(2),), input_names=["a", "b"])


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
@pytest.mark.parametrize("function", [autodiff.cummax, autodiff.cummin])
def test_running_extremes_take_the_last_tie_and_the_last_nan(function, dtype: str) -> None:
    values = [[1, 3, 3, float("nan"), 5, float("nan"), 2], [4, 4, 1, 1, 0, 7, 7]]
    if dtype != "float32":
        values = [[0 if math.isnan(v) else int(v) for v in row] for row in values]
    x = autodiff.tensor(values, dtype=getattr(autodiff, dtype))
    session = _session(_export(lambda t: tuple(function(t, 1)), (x,)))
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    expected = function(x, 1)
    np.testing.assert_array_equal(got[0], expected.values.numpy())
    np.testing.assert_array_equal(got[1], expected.indices.numpy())
    if dtype == "float32":  # PyTorch's own indices on these elements
        assert got[1].tolist() == ([[0, 1, 2, 3, 3, 5, 5], [0, 1, 1, 1, 1, 5, 6]]
                                   if function is autodiff.cummax else
                                   [[0, 0, 0, 3, 3, 5, 5], [0, 1, 2, 3, 4, 4, 4]])


def test_cumulative_products_and_log_sums_over_a_middle_dim() -> None:
    x = autodiff.tensor(np.random.default_rng(0).uniform(0.5, 2.0, (2, 5, 3)),
                        dtype=autodiff.float32)
    for function in (autodiff.cumprod, autodiff.logcumsumexp):
        session = _session(_export(lambda t, function=function: function(t, 1), (x,)))
        (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        np.testing.assert_allclose(got, function(x, 1).numpy(), rtol=1e-6)


@pytest.mark.parametrize("values", [[3.0, 1.0, 2.0, 1.0], [1.0, float("nan"), 2.0, 5.0, 4.0],
                                    [float("nan")] * 3, [7.0], [[2.0, 9.0], [4.0, -1.0]]])
@pytest.mark.parametrize("function", [autodiff.median, autodiff.nanmedian])
def test_median_of_all_elements_with_nans(function, values) -> None:
    x = autodiff.tensor(values)
    session = _session(_export(function, (x,)))
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_array_equal(got, function(x).numpy())


def test_median_of_integers() -> None:
    x = autodiff.tensor([[5, 3, 8], [1, 9, 2]])
    session = _session(_export(autodiff.median, (x,)))
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert got.dtype == np.int64 and got == 3
