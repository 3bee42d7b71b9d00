"""Quantized tensors and dynamic quantization (`quantized_tensor.py`, `autodiff/ao`) against
PyTorch 2.13 where it is installed: quantize/dequantize bit for bit (rounding near halfway
points included), reprs, refusals, quantize_dynamic's modules (reprs, state dict keys, weights,
outputs), the autograd behaviour of their outputs, and saving."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    # Both libraries warn that quantized creation functions and torch.ao.quantization are
    # deprecated.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", "torch.quantize_per_tensor, torch.quantize_per_channel")
        yield


def _halfway_values(rng: np.random.Generator, scale: float, n: int) -> np.ndarray:
    """Values at and near the midpoints between quantization steps, and ordinary ones."""
    steps = rng.integers(-300, 300, n).astype(np.float32)
    values = ((steps + 0.5) * np.float32(scale)).astype(np.float32)
    values[: n // 4] = rng.normal(size=n // 4).astype(np.float32) * 3
    return values


@pytest.mark.parametrize("dtype", ["qint8", "quint8", "qint32"])
def test_quantize_per_tensor_matches_torch_bit_for_bit(dtype: str) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        scale = float(rng.uniform(0.001, 0.5))
        zero_point = int(rng.integers(-10, 10)) + (128 if dtype == "quint8" else 0)
        values = _halfway_values(rng, scale, int(rng.integers(1, 200)))
        expected = torch.quantize_per_tensor(torch.from_numpy(values), scale, zero_point,
                                             getattr(torch, dtype))
        got = autodiff.quantize_per_tensor(autodiff.tensor(values), scale, zero_point,
                                           getattr(autodiff, dtype))
        np.testing.assert_array_equal(got.int_repr().numpy(), expected.int_repr().numpy())
        np.testing.assert_array_equal(got.dequantize().numpy().view(np.int32),
                                      expected.dequantize().numpy().view(np.int32))
        assert got.q_scale() == expected.q_scale()
        assert got.q_zero_point() == expected.q_zero_point()


@pytest.mark.parametrize("dtype", ["qint8", "quint8"])
@pytest.mark.parametrize("axis", [0, 1])
def test_quantize_per_channel_matches_torch_bit_for_bit(dtype: str, axis: int) -> None:
    rng = np.random.default_rng(1)
    for _ in range(10):
        scales = rng.uniform(0.01, 0.3, 3)
        zero_points = rng.integers(-10, 10, 3) + (128 if dtype == "quint8" else 0)
        values = (rng.integers(-150, 150, (40, 3)) + 0.5) * scales.astype(np.float32)
        values = np.ascontiguousarray(values.astype(np.float32) if axis else values.T,
                                      dtype=np.float32)
        expected = torch.quantize_per_channel(
            torch.from_numpy(values), torch.from_numpy(scales), torch.from_numpy(zero_points),
            axis, getattr(torch, dtype))
        got = autodiff.quantize_per_channel(
            autodiff.tensor(values), autodiff.tensor(scales), autodiff.tensor(zero_points),
            axis, getattr(autodiff, dtype))
        np.testing.assert_array_equal(got.int_repr().numpy(), expected.int_repr().numpy())
        np.testing.assert_array_equal(got.dequantize().numpy().view(np.int32),
                                      expected.dequantize().numpy().view(np.int32))
        np.testing.assert_array_equal(got.q_per_channel_scales().numpy(),
                                      expected.q_per_channel_scales().numpy())
        np.testing.assert_array_equal(got.q_per_channel_zero_points().numpy(),
                                      expected.q_per_channel_zero_points().numpy())
        assert got.q_per_channel_axis() == expected.q_per_channel_axis() == axis


@pytest.mark.parametrize("reduce_range", [False, True])
@pytest.mark.parametrize("dtype", ["quint8", "qint8"])
def test_quantize_per_tensor_dynamic_matches_torch(dtype: str, reduce_range: bool) -> None:
    rng = np.random.default_rng(5)
    for case in range(40):
        values = rng.normal(size=int(rng.integers(1, 50))) * rng.uniform(0.001, 10)
        values = (values + rng.uniform(-3, 3)).astype(np.float32)
        # one-signed inputs and tiny ranges take ChooseQuantizationParams' other branches
        values = [values, np.abs(values), -np.abs(values), values * 1e-6][case % 4]
        expected = torch.quantize_per_tensor_dynamic(torch.from_numpy(values),
                                                     getattr(torch, dtype), reduce_range)
        got = autodiff.quantize_per_tensor_dynamic(autodiff.tensor(values),
                                                   getattr(autodiff, dtype), reduce_range)
        assert (got.q_scale(), got.q_zero_point()) == (expected.q_scale(),
                                                       expected.q_zero_point())
        np.testing.assert_array_equal(got.int_repr().numpy(), expected.int_repr().numpy())


def _both(make: Any) -> tuple[Any, Any]:
    return make(autodiff), make(torch)


REPRS = {
    "per_tensor": lambda m: m.quantize_per_tensor(
        m.tensor([-1.0, 0.0, 1.0, 2.0, 0.15, 0.25]), 0.1, 10, m.quint8),
    "matrix": lambda m: m.quantize_per_tensor(
        m.arange(12, dtype=m.float32).reshape(3, 4) / 7 - 0.8, 0.05, 0, m.qint8),
    "zero_dim": lambda m: m.quantize_per_tensor(m.tensor(1.5), 0.05, 0, m.qint32),
    "tensor_scale": lambda m: m.quantize_per_tensor(
        m.tensor([0.1, 0.3]), m.tensor(0.1), m.tensor(3), m.qint8),
    "per_channel": lambda m: m.quantize_per_channel(
        m.tensor([[0.9, -0.6, -0.3], [1.8, 1.2, -0.6]]), m.tensor([0.1, 0.2]),
        m.tensor([0, 1]), 0, m.qint8),
    "empty": lambda m: m.quantize_per_tensor(m.zeros(0, 2), 0.1, 0, m.qint8),
}


@pytest.mark.parametrize("name", sorted(REPRS))
def test_repr_matches_torch(name: str) -> None:
    ours, theirs = _both(REPRS[name])
    assert repr(ours) == repr(theirs)


def test_dtypes_and_schemes_match_torch() -> None:
    for name in ("qint8", "quint8", "qint32", "quint4x2"):
        ours, theirs = getattr(autodiff, name), getattr(torch, name)
        assert repr(ours) == repr(theirs)
        assert ours.itemsize == theirs.itemsize
        assert ours.is_floating_point == theirs.is_floating_point
        with pytest.raises(RuntimeError, match="isSignedType not supported for quantized"):
            _ = ours.is_signed
    for name in ("per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
                 "per_channel_symmetric", "per_channel_affine_float_qparams"):
        assert repr(getattr(autodiff, name)) == repr(getattr(torch, name))
    ours, theirs = _both(REPRS["per_tensor"])
    assert ours.is_quantized and theirs.is_quantized
    assert not autodiff.ones(2).is_quantized
    assert ours.dtype is autodiff.quint8 and ours.qscheme() is autodiff.per_tensor_affine
    assert ours.element_size() == theirs.element_size()
    assert ours.shape == theirs.shape and ours.layout is autodiff.strided


def _error(make: Any, library: Any) -> tuple[type, str]:
    with pytest.raises(Exception) as caught:
        make(library)
    return type(caught.value), str(caught.value).split("\n")[0]


ERRORS = {
    "double_input": lambda m: m.quantize_per_tensor(m.ones(2, dtype=m.float64), 0.1, 0,
                                                    m.qint8),
    "int_input": lambda m: m.quantize_per_tensor(m.tensor([1, 2]), 0.1, 0, m.qint8),
    "float_dtype": lambda m: m.quantize_per_tensor(m.ones(2), 0.1, 0, m.float32),
    "zero_point_above": lambda m: m.quantize_per_tensor(m.ones(2), 0.1, 300, m.quint8),
    "zero_point_below": lambda m: m.quantize_per_tensor(m.ones(2), 0.1, -1, m.quint8),
    "q_scale_of_per_channel": lambda m: REPRS["per_channel"](m).q_scale(),
    "channel_scales_of_per_tensor": lambda m: REPRS["per_tensor"](m).q_per_channel_scales(),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name: str) -> None:
    assert _error(ERRORS[name], autodiff) == _error(ERRORS[name], torch)


@pytest.mark.parametrize("op", ["sum", "abs", "mul"])
def test_unsupported_ops_are_refused_by_the_quantized_backend(op: str) -> None:
    q = REPRS["matrix"](autodiff)
    call = {"sum": lambda: q.sum(), "abs": lambda: q.abs(), "mul": lambda: q * q}[op]
    with pytest.raises(NotImplementedError, match="from the 'QuantizedCPU' backend"):
        call()
    with pytest.raises(NotImplementedError, match="from the 'QuantizedCPU' backend"):
        getattr(REPRS["matrix"](torch), op if op != "mul" else "__mul__")(
            *(() if op != "mul" else (REPRS["matrix"](torch),)))


def test_quantized_dtypes_take_no_part_in_promotion() -> None:
    with pytest.raises(RuntimeError) as theirs:
        torch.promote_types(torch.qint8, torch.float32)
    with pytest.raises(RuntimeError) as ours:
        autodiff.dtypes.promote_types(autodiff.qint8, autodiff.float32)
    assert str(ours.value) == str(theirs.value)


def test_accessors_of_a_dense_tensor_are_refused_by_the_cpu_backend() -> None:
    for accessor in ("q_scale", "int_repr"):
        ours = _error(lambda m, a=accessor: getattr(m.ones(2), a)(), autodiff)
        theirs = _error(lambda m, a=accessor: getattr(m.ones(2), a)(), torch)
        assert ours[0] is theirs[0] is NotImplementedError
        assert theirs[1].startswith(ours[1].split(" This could")[0])


@pytest.mark.parametrize("op", ["view", "reshape_t", "getitem", "slice", "clone", "unsqueeze"])
def test_structural_ops_keep_the_parameters(op: str) -> None:
    calls = {
        "view": lambda q: q.view(2, 3), "reshape_t": lambda q: q.reshape(3, 2).t(),
        "getitem": lambda q: q[4], "slice": lambda q: q[1:5], "clone": lambda q: q.clone(),
        "unsqueeze": lambda q: q.unsqueeze(0)}
    ours, theirs = _both(REPRS["per_tensor"])
    assert repr(calls[op](ours)) == repr(calls[op](theirs))


# ----------------------------------------------------------------------------- modules
def _copy_parameters(source: Any, target: Any) -> None:
    for (name, value), (other, parameter) in zip(source.named_parameters(),
                                                  target.named_parameters(), strict=True):
        assert name == other
        with autodiff.no_grad():
            parameter.copy_(autodiff.tensor(value.detach().numpy()))


MODELS = {
    "linear": (lambda nn: nn.Linear(16, 8), (5, 16)),
    "linear_3d_no_bias": (lambda nn: nn.Linear(16, 11, bias=False), (2, 5, 16)),
    "lstm": (lambda nn: nn.LSTM(6, 7, 2), (9, 3, 6)),
    "lstm_bidirectional_batch_first": (
        lambda nn: nn.LSTM(6, 5, 2, batch_first=True, bidirectional=True), (3, 9, 6)),
    "gru": (lambda nn: nn.GRU(6, 7), (9, 3, 6)),
    "gru_bidirectional": (lambda nn: nn.GRU(6, 4, 2, bidirectional=True), (9, 3, 6)),
    "lstm_cell": (lambda nn: nn.LSTMCell(6, 7), (3, 6)),
    "gru_cell": (lambda nn: nn.GRUCell(6, 7), (3, 6)),
    "rnn_cell": (lambda nn: nn.RNNCell(6, 7, nonlinearity="relu"), (3, 6)),
}


def _quantized_pair(name: str, dtype: str, qconfig: str | None = None) -> tuple[Any, Any]:
    make, _ = MODELS[name]
    torch.manual_seed(0)
    theirs = make(torch.nn)
    ours = make(autodiff.nn)
    _copy_parameters(theirs, ours)
    if qconfig is None:
        return (autodiff.quantization.quantize_dynamic(
                    autodiff.nn.Sequential(ours), dtype=getattr(autodiff, dtype))[0],
                torch.ao.quantization.quantize_dynamic(
                    torch.nn.Sequential(theirs), dtype=getattr(torch, dtype))[0])
    return (autodiff.ao.quantization.quantize_dynamic(
                autodiff.nn.Sequential(ours),
                {autodiff.nn.Linear: getattr(autodiff.ao.quantization, qconfig)})[0],
            torch.ao.quantization.quantize_dynamic(
                torch.nn.Sequential(theirs),
                {torch.nn.Linear: getattr(torch.ao.quantization, qconfig)})[0])


def _flat(result: Any) -> list[Any]:
    if isinstance(result, tuple):
        return [item for part in result for item in _flat(part)]
    return [result]


@pytest.mark.parametrize("dtype", ["qint8", "float16"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_quantize_dynamic_matches_torch(name: str, dtype: str) -> None:
    ours, theirs = _quantized_pair(name, dtype)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(2)
    inputs = (rng.normal(size=MODELS[name][1]) * 2).astype(np.float32)
    expected = _flat(theirs(torch.from_numpy(inputs)))
    got = _flat(ours(autodiff.tensor(inputs)))
    # with float16 weights the biases are added in the graph, as in PyTorch
    assert [value.requires_grad for value in got] == [value.requires_grad for value in expected]
    expected = [value.detach() for value in expected]
    got = [value.detach() for value in got]
    assert len(got) == len(expected)
    for value, reference in zip(got, expected, strict=True):
        assert value.dtype is autodiff.float32 and value.shape == reference.shape
        if name.startswith("linear"):  # fbgemm's arithmetic exactly
            np.testing.assert_array_equal(value.numpy(), reference.numpy())
        else:  # the gates' sigmoid and tanh round differently in the last bit
            np.testing.assert_allclose(value.numpy(), reference.numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", ["positive", "negative", "tiny", "constant", "empty"])
def test_dynamic_linear_matches_torch_on_edge_inputs(kind: str) -> None:
    ours, theirs = _quantized_pair("linear", "qint8")
    values = np.random.default_rng(6).normal(size=(0 if kind == "empty" else 4, 16))
    values = {"positive": np.abs(values), "negative": -np.abs(values), "tiny": values * 1e-7,
              "constant": values * 0 + 0.5, "empty": values}[kind].astype(np.float32)
    np.testing.assert_array_equal(ours(autodiff.tensor(values)).numpy(),
                                  theirs(torch.from_numpy(values)).numpy())


def test_linear_weights_and_state_dict_match_torch() -> None:
    ours, theirs = _quantized_pair("linear", "qint8")
    assert repr(ours.weight()) == repr(theirs.weight())
    np.testing.assert_array_equal(ours.weight().int_repr().numpy(),
                                  theirs.weight().int_repr().numpy())
    assert ours.weight().q_scale() == theirs.weight().q_scale()
    np.testing.assert_array_equal(ours.bias().detach().numpy(), theirs.bias().detach().numpy())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "scale", "zero_point", "_packed_params.dtype", "_packed_params._packed_params"]
    assert ours.state_dict()["_packed_params.dtype"] is autodiff.qint8
    assert repr(ours._packed_params) == repr(theirs._packed_params)


@pytest.mark.parametrize("name", ["lstm_bidirectional_batch_first", "gru_cell"])
def test_rnn_state_dict_keys_and_weights_match_torch(name: str) -> None:
    ours, theirs = _quantized_pair(name, "qint8")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (key, value), (other, reference) in zip(ours.get_weight().items(),
                                                theirs.get_weight().items(), strict=True):
        assert key == other
        assert repr(value) == repr(reference)


def test_per_channel_qconfig_matches_torch() -> None:
    ours, theirs = _quantized_pair("linear", "qint8", qconfig="per_channel_dynamic_qconfig")
    assert repr(ours) == repr(theirs)
    assert repr(ours.weight()) == repr(theirs.weight())
    inputs = np.random.default_rng(3).normal(size=(4, 16)).astype(np.float32)
    np.testing.assert_array_equal(ours(autodiff.tensor(inputs)).numpy(),
                                  theirs(torch.from_numpy(inputs)).numpy())


def test_observers_match_torch() -> None:
    values = np.random.default_rng(4).normal(size=(5, 7)).astype(np.float32)
    for factory in ("default_weight_observer", "default_per_channel_weight_observer"):
        ours = getattr(autodiff.ao.quantization, factory)()
        theirs = getattr(torch.ao.quantization, factory)()
        ours(autodiff.tensor(values))
        theirs(torch.from_numpy(values))
        for value, reference in zip(ours.calculate_qparams(), theirs.calculate_qparams(),
                                    strict=True):
            assert repr(value) == repr(reference)
    with pytest.warns(UserWarning) as ours_warned:
        affine = autodiff.ao.quantization.MinMaxObserver(reduce_range=True)
    with pytest.warns(UserWarning) as theirs_warned:
        reference = torch.ao.quantization.MinMaxObserver(reduce_range=True)
    assert str(ours_warned[0].message) == str(theirs_warned[0].message)
    affine(autodiff.tensor(values) + 1)
    reference(torch.from_numpy(values) + 1)
    assert repr(affine.calculate_qparams()) == repr(reference.calculate_qparams())
    assert repr(affine) == repr(reference)
    for name in ("default_dynamic_qconfig", "float16_dynamic_qconfig"):
        ours_text = repr(getattr(autodiff.ao.quantization, name))
        theirs_text = repr(getattr(torch.ao.quantization, name))
        assert ours_text.replace("autodiff.", "torch.") == theirs_text


def test_quantize_dynamic_arguments() -> None:
    model = autodiff.nn.Sequential(autodiff.nn.Linear(3, 3), autodiff.nn.Linear(3, 2))
    only_named = autodiff.quantization.quantize_dynamic(model, {"1"})
    assert type(only_named[0]) is autodiff.nn.Linear
    assert type(only_named[1]) is autodiff.nn.quantized.dynamic.Linear
    assert type(model[1]) is autodiff.nn.Linear and not hasattr(model[1], "qconfig")
    autodiff.quantization.quantize_dynamic(model, inplace=True)
    assert type(model[0]) is autodiff.ao.nn.quantized.dynamic.Linear
    for dtype in ("int8", "float32"):
        assert _error(lambda m, d=dtype: m.ao.quantization.quantize_dynamic(
            m.nn.Linear(2, 2), dtype=getattr(m, d)), autodiff) == _error(
            lambda m, d=dtype: m.ao.quantization.quantize_dynamic(
                m.nn.Linear(2, 2), dtype=getattr(m, d)), torch)
    with pytest.warns(DeprecationWarning, match="torch.ao.quantization is deprecated"):
        autodiff.quantization.quantize_dynamic(autodiff.nn.Linear(2, 2))


def test_float16_outputs_carry_the_bias_gradient_as_in_torch() -> None:
    ours, theirs = _quantized_pair("lstm_cell", "float16")
    x = autodiff.randn(3, 6, requires_grad=True)
    reference_x = torch.randn(3, 6, requires_grad=True)
    hidden, reference_hidden = ours(x)[0], theirs(reference_x)[0]
    assert hidden.grad_fn.name() == reference_hidden.grad_fn.name()
    hidden.sum().backward()
    reference_hidden.sum().backward()
    assert x.grad is None and reference_x.grad is None
    assert ours.get_bias()["bias_ih"].grad is not None
    assert theirs.get_bias()["bias_ih"].grad is not None


def test_outputs_do_not_carry_gradients_as_in_torch() -> None:
    ours, theirs = _quantized_pair("linear", "qint8")
    x = autodiff.randn(2, 16, requires_grad=True)
    reference_x = torch.randn(2, 16, requires_grad=True)
    y, reference_y = ours(x), theirs(reference_x)
    assert y.requires_grad and reference_y.requires_grad
    assert y.grad_fn.name() == reference_y.grad_fn.name()
    with pytest.warns(UserWarning, match="autograd kernel was not registered"):
        y.sum().backward()
    assert x.grad is None
    with autodiff.no_grad():
        assert not ours(x).requires_grad


@pytest.mark.parametrize("format", ["autodiff", "torch"])
def test_quantized_tensors_and_models_save_and_load(format: str) -> None:
    quantized = {name: REPRS[name](autodiff) for name in ("per_tensor", "per_channel")}
    buffer = io.BytesIO()
    autodiff.save(quantized, buffer, format=format)
    buffer.seek(0)
    loaded = autodiff.load(buffer)
    for name, value in quantized.items():
        assert repr(loaded[name]) == repr(value)
        assert autodiff.equal(loaded[name].int_repr(), value.int_repr())
    if format == "torch":
        buffer.seek(0)
        theirs = torch.load(buffer)
        for name, value in quantized.items():
            assert repr(theirs[name]) == repr(value)
    model = autodiff.quantization.quantize_dynamic(
        autodiff.nn.Sequential(autodiff.nn.Linear(4, 3), autodiff.nn.LSTM(3, 3)))
    buffer = io.BytesIO()
    autodiff.save(model.state_dict(), buffer)
    buffer.seek(0)
    state = autodiff.load(buffer, weights_only=False)
    assert list(state) == list(model.state_dict())
    assert repr(state["0._packed_params._packed_params"]) == repr(model[0]._weight_bias())


def test_torch_written_quantized_tensors_load() -> None:
    tensors = [REPRS["per_channel"](torch), REPRS["zero_dim"](torch), REPRS["matrix"](torch)]
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    buffer.seek(0)
    loaded = autodiff.load(buffer)
    assert [repr(value) for value in loaded] == [repr(value) for value in tensors]


CONVERSIONS = {
    "item": lambda q: q[:1].item(), "float": lambda q: float(q[2]), "bool": lambda q: bool(q[2]),
    "len": lambda q: len(q), "unbind": lambda q: repr(list(q[:2])),
    "strides": lambda q: (q.stride(), q[1:].storage_offset(), q.reshape(2, 3).t().stride()),
    "contiguous": lambda q: repr(q.reshape(2, 3).t().contiguous()),
    "is_contiguous": lambda q: q.reshape(2, 3).t().is_contiguous(),
    "type": lambda q: q.type(),
    "comparisons": lambda q: repr([q == q, q > 0.15, q.ne(q.clone())]),
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_python_conversions_and_layout_match_torch(name: str) -> None:
    ours, theirs = _both(REPRS["per_tensor"])
    assert CONVERSIONS[name](ours) == CONVERSIONS[name](theirs)


def test_equal_compares_dtype_parameters_and_integers_as_torch() -> None:
    for library in (autodiff, torch):
        q = REPRS["per_tensor"](library)
        other = library.quantize_per_tensor(q.dequantize(), 0.2, 10, library.quint8)
        channels = REPRS["per_channel"](library)
        assert library.equal(q, q.clone()) and library.equal(channels, channels.clone())
        assert not library.equal(q, other)


@pytest.mark.parametrize("name", ["tolist", "numpy", "float"])
def test_conversions_refused_as_in_torch(name: str) -> None:
    call = {"tolist": lambda m: REPRS["per_tensor"](m).tolist(),
            "numpy": lambda m: REPRS["per_tensor"](m).numpy(),
            "float": lambda m: REPRS["per_tensor"](m).float()}[name]
    assert _error(call, autodiff) == _error(call, torch)


def test_load_state_dict_into_quantized_modules() -> None:
    def make(library: Any) -> Any:
        return library.quantization.quantize_dynamic(library.nn.Sequential(
            library.nn.Linear(4, 3), library.nn.LSTM(3, 3), library.nn.GRUCell(3, 3)))

    source, target = make(autodiff), make(autodiff)
    buffer = io.BytesIO()
    autodiff.save(source.state_dict(), buffer)
    buffer.seek(0)
    target.load_state_dict(autodiff.load(buffer, weights_only=False))
    x = autodiff.randn(5, 2, 4)
    assert autodiff.equal(source[0](x), target[0](x))
    assert autodiff.equal(source[1](source[0](x))[0], target[1](source[0](x))[0])
    assert autodiff.equal(source[2](x[0, :, :3]), target[2](x[0, :, :3]))
    with pytest.raises(RuntimeError, match=r'Missing key.*"0\._packed_params\._packed_params"'):
        target.load_state_dict({})


def test_torch_written_linear_state_dict_loads_and_computes_the_same() -> None:
    theirs = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(4, 3)))
    buffer = io.BytesIO()
    torch.save(theirs.state_dict(), buffer)
    buffer.seek(0)
    ours = autodiff.quantization.quantize_dynamic(autodiff.nn.Sequential(autodiff.nn.Linear(4, 3)))
    ours.load_state_dict(autodiff.load(buffer))
    values = np.random.default_rng(7).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(ours(autodiff.tensor(values)).detach().numpy(),
                                  theirs(torch.from_numpy(values)).detach().numpy())


MODULE_ERRORS = {
    "linear_double_input": ("linear", lambda m: m.randn(2, 16, dtype=m.float64)),
    "linear_wrong_features": ("linear", lambda m: m.randn(2, 5)),
    "lstm_2d_input": ("lstm", lambda m: m.randn(9, 6)),
    "lstm_wrong_features": ("lstm", lambda m: m.randn(9, 3, 5)),
    "gru_cell_wrong_features": ("gru_cell", lambda m: m.randn(3, 5)),
}


@pytest.mark.parametrize("case", sorted(MODULE_ERRORS))
def test_module_errors_match_torch(case: str) -> None:
    name, make_input = MODULE_ERRORS[case]
    ours, theirs = _quantized_pair(name, "qint8")
    assert _error(lambda m: ours(make_input(m)), autodiff) == \
        _error(lambda m: theirs(make_input(m)), torch)
