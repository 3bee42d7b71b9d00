"""autodiff.onnx.export of group_norm, adaptive pooling, max_unpool, unfold/fold, affine_grid,
index_add and index_copy: each exported model run in onnxruntime equals eager (shape, dtype,
values), with dynamic axes where the op allows them; an output with no ONNX value is refused
where it is read, never frozen into a constant."""

from __future__ import annotations

import io

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff import nn
from autodiff.onnx import UnsupportedOperatorError

onnxruntime = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _export(model, args, **options) -> bytes:
    buffer = io.BytesIO()
    autodiff.onnx.export(model, args, buffer, **options)
    return buffer.getvalue()


def _kinds(data: bytes) -> set[str]:
    return {node.op_type for node in onnx.load_from_string(data).graph.node}


def _random(*shape: int, seed: int = 0) -> autodiff.Tensor:
    return autodiff.tensor(np.random.default_rng(seed).standard_normal(shape),
                           dtype=autodiff.float32)


def _same(data: bytes, model, calls: list[tuple]) -> None:
    """The exported graph, run on each tuple of inputs, gives eager's outputs: their shapes,
    dtypes and values."""
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [item.name for item in session.get_inputs()]
    for inputs in calls:
        got = session.run(None, {name: tensor.numpy() for name, tensor in zip(names, inputs)})
        with autodiff.no_grad():
            expected = model(*inputs)
        expected = [expected] if isinstance(expected, autodiff.Tensor) else list(expected)
        assert len(got) == len(expected)
        for value, reference in zip(got, expected):
            reference = reference.numpy()
            assert value.shape == reference.shape
            assert value.dtype == reference.dtype
            np.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- group_norm
@pytest.mark.parametrize("shape", [(2, 6, 5, 4), (2, 6, 7), (3, 6)])
def test_group_norm_with_a_dynamic_batch(shape: tuple[int, ...]) -> None:
    model = nn.GroupNorm(3, 6)
    with autodiff.no_grad():
        model.weight.copy_(_random(6, seed=1))
        model.bias.copy_(_random(6, seed=2))
    data = _export(model, (_random(*shape),), input_names=["x"], dynamic_axes={"x": [0]})
    assert "ReduceMean" in _kinds(data)
    _same(data, model, [(_random(*shape, seed=3),), (_random(5, *shape[1:], seed=4),)])


@pytest.mark.parametrize("opset", [17, 18])
def test_group_norm_without_affine(opset: int) -> None:
    def model(x):
        return F.group_norm(x, 2, eps=1e-3)

    data = _export(model, (_random(2, 4, 3),), opset_version=opset)
    _same(data, model, [(_random(2, 4, 3, seed=5) * 100 + 7,)])


# ----------------------------------------------------------------------------- adaptive pooling
def test_adaptive_avg_pool_that_divides_is_an_average_pool() -> None:
    def model(x):
        return F.adaptive_avg_pool2d(x, (4, 2))

    data = _export(model, (_random(2, 3, 8, 6),), input_names=["x"], dynamic_axes={"x": [0, 1]})
    assert "AveragePool" in _kinds(data)
    _same(data, model, [(_random(4, 5, 8, 6, seed=1),)])


def test_adaptive_avg_pool_to_one_is_a_mean_over_dynamic_sizes() -> None:
    model = nn.AdaptiveAvgPool2d(1)
    data = _export(model, (_random(2, 3, 7, 5),), input_names=["x"],
                   dynamic_axes={"x": {0: "batch", 2: "height", 3: "width"}})
    assert "ReduceMean" in _kinds(data)
    _same(data, model, [(_random(1, 3, 9, 4, seed=1),), (_random(3, 3, 2, 11, seed=2),)])


@pytest.mark.parametrize(("function", "shape", "size"), [
    (F.adaptive_avg_pool2d, (2, 3, 7, 5), (3, 4)), (F.adaptive_avg_pool2d, (3, 7, 5), (4, 3)),
    (F.adaptive_avg_pool1d, (2, 3, 7), 4), (F.adaptive_avg_pool3d, (1, 2, 5, 4, 7), (2, 3, 3)),
])
def test_adaptive_avg_pool_with_uneven_windows(function, shape, size) -> None:
    """Windows of different lengths (PyTorch's exporter refuses these sizes): each output the
    mean of its own window, with the batch dynamic."""
    def model(x):
        return function(x, size)

    data = _export(model, (_random(*shape),), input_names=["x"], dynamic_axes={"x": [0]})
    assert "Gather" in _kinds(data)
    _same(data, model, [(_random(*shape, seed=1),),
                        (_random(shape[0] + 2, *shape[1:], seed=2),)])


def test_adaptive_pooling_of_a_dynamic_size_to_other_than_one_is_refused() -> None:
    with pytest.raises(UnsupportedOperatorError, match=r"aten::_adaptive_avg_pool2d.*dynamic"):
        _export(lambda x: F.adaptive_avg_pool2d(x, 2), (_random(1, 2, 6, 6),),
                input_names=["x"], dynamic_axes={"x": [2]})


@pytest.mark.parametrize(("shape", "size"), [((2, 3, 8, 6), (4, 3)), ((3, 6, 4), (2, 2)),
                                             ((1, 2, 4, 6, 2), (2, 3, 1))])
def test_adaptive_max_pool_that_divides_gives_pytorchs_indices(shape, size) -> None:
    function = F.adaptive_max_pool3d if len(size) == 3 else F.adaptive_max_pool2d

    def model(x):
        return function(x, size, return_indices=True)

    data = _export(model, (_random(*shape),), input_names=["x"], dynamic_axes={"x": [0]})
    assert "MaxPool" in _kinds(data)
    _same(data, model, [(_random(*shape, seed=1),), (_random(4, *shape[1:], seed=2),)])


@pytest.mark.parametrize(("function", "shape", "size"), [
    (F.adaptive_max_pool2d, (2, 3, 7, 5), (3, 4)), (F.adaptive_max_pool1d, (2, 3, 7), 4),
    (F.adaptive_max_pool3d, (1, 2, 5, 4, 3), (2, 3, 2)),
])
def test_adaptive_max_pool_with_uneven_windows(function, shape, size) -> None:
    def model(x):
        return function(x, size)

    data = _export(model, (_random(*shape),), input_names=["x"], dynamic_axes={"x": [0, 1]})
    _same(data, model, [(_random(*shape, seed=1),), (_random(3, 4, *shape[2:], seed=2),)])


def test_adaptive_max_pool_propagates_nan() -> None:
    def model(x):
        return F.adaptive_max_pool2d(x, (3, 2))

    x = _random(1, 2, 5, 5)
    x[0, 1, 2, 3] = float("nan")
    data = _export(model, (x,))
    _same(data, model, [(x,)])


def test_adaptive_max_pool_to_one_over_dynamic_sizes() -> None:
    model = nn.AdaptiveMaxPool2d((1, 1))
    data = _export(model, (_random(2, 3, 5, 4),), input_names=["x"],
                   dynamic_axes={"x": [0, 2, 3]})
    assert "GlobalMaxPool" in _kinds(data)
    _same(data, model, [(_random(1, 3, 9, 2, seed=1),)])


def test_indices_with_no_onnx_value_are_refused_where_read() -> None:
    """Uneven adaptive max windows have no ONNX indices: reading them (here by max_unpool)
    stops the export instead of writing the traced indices as a constant."""
    def model(x):
        values, indices = F.adaptive_max_pool2d(x, (3, 2), return_indices=True)
        return F.max_unpool2d(values, indices, 2, output_size=(7, 5))

    with pytest.raises(UnsupportedOperatorError, match="no ONNX value"):
        _export(model, (_random(1, 2, 7, 5),))
    with pytest.raises(UnsupportedOperatorError, match="no ONNX value"):
        _export(lambda x: F.adaptive_max_pool2d(x, (3, 2), return_indices=True),
                (_random(1, 2, 7, 5),))


# ----------------------------------------------------------------------------- max pool, unpool
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil_mode"), [
    (2, 2, 0, 1, False), (3, 2, 1, 1, True), (2, 1, 1, 2, False)])
def test_max_pool_indices_are_pytorchs(kernel, stride, padding, dilation, ceil_mode) -> None:
    def model(x):
        return F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode,
                            return_indices=True)

    data = _export(model, (_random(2, 3, 7, 6),), input_names=["x"], dynamic_axes={"x": [0]})
    _same(data, model, [(_random(2, 3, 7, 6, seed=1),), (_random(3, 3, 7, 6, seed=2),)])


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_pool_then_unpool_follows_the_input(dims: int) -> None:
    """The unpooled positions are computed in the graph from each input (a constant of the
    traced indices would give the first input's positions to every other)."""
    pool = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[dims - 1](2, return_indices=True)
    unpool = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)[dims - 1](2)
    spatial = (4,) * dims

    def model(x):
        values, indices = pool(x)
        return unpool(values, indices)

    data = _export(model, (_random(2, 3, *spatial),), input_names=["x"], output_names=["y"],
                   dynamic_axes={"x": [0], "y": [0]})
    assert "ScatterElements" in _kinds(data)
    _same(data, model, [(_random(2, 3, *spatial, seed=seed),) for seed in (1, 2)]
          + [(_random(5, 3, *spatial, seed=3),)])


def test_max_unpool_with_indices_as_an_input_and_an_output_size() -> None:
    def model(x, indices):
        return F.max_unpool2d(x, indices, 2, stride=2, output_size=(5, 7))

    _, indices = F.max_pool2d(_random(2, 3, 5, 7), 2, return_indices=True)
    data = _export(model, (_random(2, 3, 2, 3), indices), input_names=["x", "indices"],
                   dynamic_axes={"x": [0], "indices": [0]})
    _, other = F.max_pool2d(_random(4, 3, 5, 7, seed=9), 2, return_indices=True)
    _same(data, model, [(_random(4, 3, 2, 3, seed=1), other)])


# ----------------------------------------------------------------------------- unfold, fold
@pytest.mark.parametrize(("kernel", "dilation", "padding", "stride"), [
    ((2, 3), (1, 2), (1, 1), (2, 1)), (3, 1, 0, 1), ((1, 2), 1, (2, 0), (1, 3))])
def test_unfold_and_fold_with_a_dynamic_batch(kernel, dilation, padding, stride) -> None:
    options = {"kernel_size": kernel, "dilation": dilation, "padding": padding,
               "stride": stride}

    def unfold(x):
        return F.unfold(x, **options)

    data = _export(unfold, (_random(2, 3, 6, 7),), input_names=["x"], dynamic_axes={"x": [0]})
    _same(data, unfold, [(_random(2, 3, 6, 7, seed=1),), (_random(4, 3, 6, 7, seed=2),)])

    columns = unfold(_random(2, 3, 6, 7))

    def fold(cols):
        return F.fold(cols, (6, 7), **options)

    data = _export(fold, (columns,), input_names=["cols"], dynamic_axes={"cols": [0]})
    assert "ScatterElements" in _kinds(data)
    more = unfold(_random(5, 3, 6, 7, seed=3))
    _same(data, fold, [(columns,), (more,)])


def test_unbatched_unfold_and_fold() -> None:
    def model(x):
        return F.fold(F.unfold(x, 2, stride=1) * 2, (4, 5), 2)

    data = _export(model, (_random(3, 4, 5),))
    _same(data, model, [(_random(3, 4, 5, seed=1),)])


def test_fold_keeps_infinities_where_eager_puts_them() -> None:
    def model(cols):
        return F.fold(cols, (3, 3), 2)

    cols = _random(1, 4, 4)
    cols[0, 1, 2] = float("inf")
    cols[0, 3, 0] = float("nan")
    data = _export(model, (cols,))
    _same(data, model, [(cols,)])


def test_fold_below_opset_16_is_refused() -> None:
    with pytest.raises(UnsupportedOperatorError, match=r"aten::col2im.*opset 16"):
        _export(lambda cols: F.fold(cols, (3, 3), 2), (_random(1, 4, 4),), opset_version=15)


# ----------------------------------------------------------------------------- affine_grid
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_then_grid_sample_with_a_dynamic_batch(align_corners: bool) -> None:
    """A spatial transformer's sampling: affine_grid then grid_sample."""
    def model(x, theta):
        grid = F.affine_grid(theta, [theta.shape[0], 2, 5, 6], align_corners=align_corners)
        return F.grid_sample(x, grid, align_corners=align_corners), grid

    theta = _random(2, 2, 3, seed=1) * 0.3 + autodiff.tensor([[1.0, 0, 0], [0, 1.0, 0]])
    data = _export(model, (_random(2, 2, 5, 6), theta), input_names=["x", "theta"],
                   dynamic_axes={"x": [0], "theta": [0]})
    _same(data, model, [(_random(3, 2, 5, 6, seed=2), _random(3, 2, 3, seed=3) * 0.5)])


def test_affine_grid_3d() -> None:
    def model(theta):
        return F.affine_grid(theta, [theta.shape[0], 1, 3, 2, 4], align_corners=False)

    data = _export(model, (_random(1, 3, 4),), input_names=["theta"],
                   dynamic_axes={"theta": [0]})
    _same(data, model, [(_random(3, 3, 4, seed=1),)])


# ------------------------------------------------------------------------ index_add, index_copy
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_and_index_copy_with_the_index_an_input(dim: int) -> None:
    """Repeated indices add up (index_add, with alpha); the index is a graph input, so other
    indices give other results."""
    def add(x, source, index):
        return x.index_add(dim, index, source, alpha=1.5)

    def copy(x, source, index):
        return x.index_copy(dim, index, source)

    x = _random(3, 4, 5)
    shape = [3, 4, 5]
    shape[dim] = 3
    source = _random(*shape, seed=1)
    size = x.shape[dim]
    repeated = autodiff.tensor([size - 1, 0, size - 1])
    other = autodiff.tensor([1, 2, 0])
    data = _export(add, (x, source, repeated), input_names=["x", "source", "index"])
    assert "ScatterElements" in _kinds(data)
    _same(data, add, [(x, source, repeated), (x, source, other)])
    data = _export(copy, (x, source, other), input_names=["x", "source", "index"])
    _same(data, copy, [(x, source, other), (x, source, autodiff.tensor([2, 0, 1]))])


def test_index_add_with_a_dynamic_axis() -> None:
    index = autodiff.tensor([2, 0])

    def model(x, source):
        return x.index_add(1, index, source)

    data = _export(model, (_random(3, 4), _random(3, 2)), input_names=["x", "source"],
                   dynamic_axes={"x": [0], "source": [0]})
    _same(data, model, [(_random(6, 4, seed=1), _random(6, 2, seed=2))])


# ----------------------------------------------------------------------------- attention
@pytest.mark.parametrize("is_causal", [False, True])
def test_grouped_query_attention_with_dynamic_batch_and_length(is_causal: bool) -> None:
    """enable_gqa: each key and value head serves a group of query heads; the batch and the
    (shared) sequence length stay dynamic."""
    def model(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, enable_gqa=True)

    q, k, v = _random(2, 6, 5, 4), _random(2, 2, 5, 4, seed=1), _random(2, 2, 5, 3, seed=2)
    axes = {0: "batch", 2: "length"}
    data = _export(model, (q, k, v), input_names=["q", "k", "v"],
                   dynamic_axes={"q": axes, "k": axes, "v": axes})
    assert "Expand" in _kinds(data)
    _same(data, model, [(q, k, v), (_random(3, 6, 7, 4, seed=3), _random(3, 2, 7, 4, seed=4),
                                     _random(3, 2, 7, 3, seed=5))])


# ----------------------------------------------------------------------------- embedding_bag
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_with_an_empty_bag_and_padding(mode: str, padding_idx) -> None:
    """The bags' bounds are fixed in the graph; the indices are an input (other values give
    eager's bags); an empty bag, or one of padding only, gives zeros."""
    autodiff.manual_seed(0)
    bag = nn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx)
    offsets = autodiff.tensor([0, 2, 2, 5])

    def model(indices):
        return bag(indices, offsets)

    indices = autodiff.tensor([1, 2, 4, 0, 5, 2])
    data = _export(model, (indices,))
    _same(data, model, [(indices,), (autodiff.tensor([2, 2, 3, 3, 1, 0]),)])


def test_embedding_bag_of_fixed_bags_with_per_sample_weights() -> None:
    autodiff.manual_seed(0)
    bag = nn.EmbeddingBag(5, 4, mode="sum")

    def model(indices, weights):
        return bag(indices, per_sample_weights=weights)

    indices, weights = autodiff.tensor([[0, 4, 4], [1, 2, 3]]), _random(2, 3)
    data = _export(model, (indices, weights))
    _same(data, model, [(indices, weights), (autodiff.tensor([[3, 3, 3], [0, 1, 0]]),
                                             _random(2, 3, seed=1))])
