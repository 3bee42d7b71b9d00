"""The fused kernels of backends/kernels.py.

Two layers: the NumPy version of each kernel against a plain NumPy formula, and every device's
backend method against the NumPy version on the same inputs. On a GPU the second layer checks
the kernels CuPy compiles (cupy.fuse) against the Python they were compiled from.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import array_api_compat.numpy as npx
import numpy as np
import pytest

import backends
from backends import kernels
from backends.kernels import Kernels

CPU = backends.get_backend("cpu")  # composite kernels run on a backend
TOLERANCE = {"float32": {"rtol": 2e-6, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-13}}


def _uniform(shape: tuple[int, ...], low: float, high: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=shape)


# ----------------------------------------------------------------------------- NumPy vs formula
def test_sigmoid_matches_formula() -> None:
    x = np.concatenate([_uniform((500,), -30, 30), [-800.0, -50.0, 0.0, 50.0, 800.0]])
    with np.errstate(over="ignore"):
        expected = 1 / (1 + np.exp(-x))
        out64 = Kernels.sigmoid(npx, x)
        out32 = Kernels.sigmoid(npx, x.astype(np.float32))
    # Accurate relative to the result, also far in the left tail (what log(sigmoid(x)) needs).
    np.testing.assert_allclose(out64, expected, rtol=1e-15, atol=0)
    assert out32.dtype == np.float32
    tail = x > -80  # below that float32 sigmoid is denormal or zero
    np.testing.assert_allclose(out32[tail], expected[tail], rtol=1e-6, atol=0)


def test_sigmoid_through_the_backend_is_warning_free_and_accurate() -> None:
    import warnings

    from backends import get_backend

    backend = get_backend("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = backend.sigmoid(np.array([-20.0, -1000.0, 0.0], dtype=np.float32))
    np.testing.assert_allclose(out, [2.0611537e-09, 0.0, 0.5], rtol=1e-6, atol=0)


def test_absolute_sigmoid_for_gradients_is_accurate_to_rounding_of_one() -> None:
    x = np.concatenate([_uniform((500,), -30, 30), [-800.0, 0.0, 800.0]])
    with np.errstate(over="ignore"):
        expected = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(kernels.sigmoid_absolute(npx, x), expected, rtol=0, atol=5e-16)


def test_softplus_matches_formula_and_never_overflows() -> None:
    x = _uniform((500,), -30, 30)
    np.testing.assert_allclose(Kernels.softplus(npx, x), np.log1p(np.exp(x)), rtol=1e-14)
    big = np.array([-1000.0, 1000.0])
    np.testing.assert_allclose(Kernels.softplus(npx, big), [0.0, 1000.0], atol=1e-300)
    assert Kernels.softplus(npx, x.astype(np.float32)).dtype == np.float32


def _bce_formula(z: np.ndarray, y: np.ndarray, weight: Any, pos_weight: Any) -> np.ndarray:
    """-w [p y log s(z) + (1 - y) log(1 - s(z))] from its definition."""
    s = 1 / (1 + np.exp(-z))
    p = 1 if pos_weight is None else pos_weight
    w = 1 if weight is None else weight
    return -w * (p * y * np.log(s) + (1 - y) * np.log(1 - s))


def _bce_grad_formula(grad: Any, z: np.ndarray, y: np.ndarray, weight: Any,
                      pos_weight: Any) -> np.ndarray:
    """d/dz of the formula above: w [(1 - y) s - p y (1 - s)] times grad."""
    s = 1 / (1 + np.exp(-z))
    p = 1 if pos_weight is None else pos_weight
    w = 1 if weight is None else weight
    return grad * w * ((1 - y) * s - p * y * (1 - s))


BCE_VARIANTS = [
    pytest.param(False, False, id="plain"),
    pytest.param(True, False, id="weight"),
    pytest.param(False, True, id="pos_weight"),
    pytest.param(True, True, id="both"),
]


def _bce_inputs(use_weight: bool, use_pos_weight: bool) -> dict[str, Any]:
    z = _uniform((6, 4), -8, 8, seed=1)
    return {
        "z": z,
        "y": _uniform((6, 4), 0, 1, seed=2),
        "weight": _uniform((4,), 0.5, 2, seed=3) if use_weight else None,  # broadcast over rows
        "pos_weight": _uniform((4,), 0.5, 3, seed=4) if use_pos_weight else None,
    }


@pytest.mark.parametrize(("use_weight", "use_pos_weight"), BCE_VARIANTS)
def test_bce_with_logits_matches_formula(use_weight: bool, use_pos_weight: bool) -> None:
    a = _bce_inputs(use_weight, use_pos_weight)
    np.testing.assert_allclose(
        Kernels.bce_with_logits(npx, a["z"], a["y"], a["weight"], a["pos_weight"]),
        _bce_formula(a["z"], a["y"], a["weight"], a["pos_weight"]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("use_weight", "use_pos_weight"), BCE_VARIANTS)
@pytest.mark.parametrize("full_grad", [False, True], ids=["0d-grad", "full-grad"])
def test_bce_with_logits_backward_matches_formula(use_weight: bool, use_pos_weight: bool,
                                                  full_grad: bool) -> None:
    a = _bce_inputs(use_weight, use_pos_weight)
    grad = _uniform((6, 4), -1, 1, seed=5) if full_grad else np.array(0.25)
    np.testing.assert_allclose(
        Kernels.bce_with_logits_backward(npx, grad, a["z"], a["y"], a["weight"],
                                         a["pos_weight"]),
        _bce_grad_formula(grad, a["z"], a["y"], a["weight"], a["pos_weight"]),
        rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("shape", "axis"), [((5, 7), 1), ((5, 7), 0), ((2, 3, 4), -1),
                                             ((2, 3, 4), 1), ((3,), 0)])
def test_log_softmax_matches_formula(shape: tuple[int, ...], axis: int) -> None:
    x = _uniform(shape, -5, 5)
    expected = x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))
    np.testing.assert_allclose(CPU.log_softmax(x, axis), expected, rtol=1e-12,
                               atol=1e-12)
    # The split form CuPy compiles gives the same numbers.
    peak = np.max(x, axis=axis, keepdims=True)
    total = np.expand_dims(Kernels.log_softmax_sum(npx, x, peak, axis=axis), axis)
    np.testing.assert_allclose(Kernels.log_softmax_finish(npx, x, peak, total),
                               CPU.log_softmax(x, axis), rtol=0, atol=0)


@pytest.mark.parametrize("shape", [(64, 10), (1024, 3), (32, 16), (40, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_log_softmax_of_a_batch_of_logits_keeps_the_bits(shape: tuple[int, ...],
                                                          dtype: Any) -> None:
    # Short rows take the maximum over a transposed copy: the same bits as the row-wise
    # reduction, signed zeros, infinities and nans included.
    rng = np.random.default_rng(0)
    specials = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan], dtype)
    for x in (rng.standard_normal(shape).astype(dtype), rng.choice(specials, size=shape)):
        with np.errstate(all="ignore"):
            shifted = x - np.maximum.reduce(x, axis=1, keepdims=True)
            expected = shifted - np.log(np.add.reduce(np.exp(shifted), axis=1, keepdims=True))
            got = CPU.log_softmax(x, 1)
        assert got.dtype == expected.dtype
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize(("target", "classes", "expected"), [
    ([0, 9, 3], 10, True), ([0, 10, 3], 10, False), ([0, -1, 3], 10, False),
    ([-(2**63)], 10, False), ([2**63 - 1], 10, False), ([4], 5, True)])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_class_targets_in_range(target: list[int], classes: int, expected: bool,
                                dtype: Any) -> None:
    values = np.array(target)
    if not np.array_equal(values.astype(dtype).astype(values.dtype), values):
        pytest.skip("not representable in this dtype")
    assert CPU.class_targets_in_range(values.astype(dtype), classes) is expected
    strided = np.repeat(values.astype(dtype), 2)[::2]  # (a view with a stride)
    assert CPU.class_targets_in_range(strided, classes) is expected


def test_log_softmax_is_stable_for_large_logits() -> None:
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    log_total = np.log(1 + np.exp(-1.0) + np.exp(-2.0))  # logsumexp of [0, -1, -2], exactly
    expected = np.array([[-2 - log_total, -1 - log_total, -log_total], [-np.log(3)] * 3])
    np.testing.assert_allclose(CPU.log_softmax(x, 1), expected, rtol=1e-14)


@pytest.mark.parametrize(("shape", "axis"), [((5, 7), 1), ((5, 7), 0), ((2, 3, 4), -1)])
def test_log_softmax_backward_matches_jacobian(shape: tuple[int, ...], axis: int) -> None:
    x = _uniform(shape, -3, 3)
    grad = _uniform(shape, -1, 1, seed=7)
    output = CPU.log_softmax(x, axis)
    softmax = np.exp(output)
    # Vector-Jacobian product of log_softmax: g_i - softmax_i * sum_j g_j.
    expected = grad - softmax * np.sum(grad, axis=axis, keepdims=True)
    np.testing.assert_allclose(CPU.log_softmax_backward(grad, output, axis), expected,
                               rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- Adam
ADAM_VARIANTS = [
    pytest.param(0.9, 0.0, False, id="adam"),
    pytest.param(0.9, 0.01, False, id="adam-l2"),
    pytest.param(0.9, 0.01, True, id="adamw"),
    pytest.param(0.3, 0.0, False, id="adam-beta1-0.3"),  # PyTorch's lerp from the other end
]


def _adam_reference(param: np.ndarray, grads: list[np.ndarray], *, lr: float, beta1: float,
                    beta2: float, eps: float, weight_decay: float,
                    decoupled: bool) -> np.ndarray:
    """Adam as the paper writes it (AdamW: decoupled decay), in float64."""
    param = param.copy()
    m = np.zeros_like(param)
    v = np.zeros_like(param)
    for step, grad in enumerate(grads, start=1):
        if decoupled:
            param = param * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * param
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1 ** step)
        v_hat = v / (1 - beta2 ** step)
        param = param - lr * m_hat / (np.sqrt(v_hat) + eps)
    return param


def _run_adam(update: Callable[..., None], param: Any, grads: list[Any], exp_avg: Any,
              exp_avg_sq: Any, **options: Any) -> None:
    for step, grad in enumerate(grads, start=1):
        update(param, grad, exp_avg, exp_avg_sq, step=step, **options)


@pytest.mark.parametrize(("beta1", "weight_decay", "decoupled"), ADAM_VARIANTS)
def test_adam_update_matches_formula(beta1: float, weight_decay: float, decoupled: bool) -> None:
    param = _uniform((4, 3), -1, 1)
    grads = [_uniform((4, 3), -1, 1, seed=10 + i) for i in range(4)]
    options = {"lr": 0.01, "beta1": beta1, "beta2": 0.999, "eps": 1e-8,
               "weight_decay": weight_decay, "decoupled": decoupled}
    expected = _adam_reference(param, grads, **options)
    state = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
    _run_adam(lambda *arrays, **kw: CPU.adam_update(*arrays, **kw),
              state[0], grads, state[1], state[2], **options)
    np.testing.assert_allclose(state[0], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("beta1", "weight_decay", "decoupled"), ADAM_VARIANTS)
def test_adam_update_matches_pytorch(beta1: float, weight_decay: float, decoupled: bool) -> None:
    torch = pytest.importorskip("torch")
    param = _uniform((4, 3), -1, 1).astype(np.float32)
    grads = [_uniform((4, 3), -1, 1, seed=10 + i).astype(np.float32) for i in range(4)]
    options = {"lr": 0.01, "betas": (beta1, 0.999), "eps": 1e-8, "weight_decay": weight_decay}
    reference = torch.tensor(param.copy(), requires_grad=True)
    optimizer = (torch.optim.AdamW if decoupled else torch.optim.Adam)(
        [reference], foreach=False, **options)
    for grad in grads:
        reference.grad = torch.tensor(grad)
        optimizer.step()
    state = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
    _run_adam(lambda *arrays, **kw: CPU.adam_update(*arrays, **kw),
              state[0], grads, state[1], state[2], lr=0.01, beta1=beta1, beta2=0.999, eps=1e-8,
              weight_decay=weight_decay, decoupled=decoupled)
    torch_state = optimizer.state[reference]
    np.testing.assert_allclose(state[0], reference.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(state[1], torch_state["exp_avg"].numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(state[2], torch_state["exp_avg_sq"].numpy(), rtol=1e-6,
                               atol=1e-10)


# ----------------------------------------------------------------------------- every device
# Each backend's method (compiled on CuPy, generic on array-api-strict) against the NumPy kernel.
def _on(backend: backends.Backend, array: Any, dtype: str) -> Any:
    return None if array is None else backend.asarray(np.asarray(array), dtype)


def _check(backend: backends.Backend, out: Any, expected: np.ndarray, dtype: str) -> None:
    import array_api_compat

    assert array_api_compat.device(out) == backend.native_device
    assert backend.dtype_name(out) == dtype
    np.testing.assert_allclose(backend.to_numpy(out), expected, **TOLERANCE[dtype])


DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_unary_kernels_on_device(name: str, dtype: str, device: str) -> None:
    backend = backends.get_backend(device)
    x = _uniform((7, 5), -20, 20).astype(dtype)
    out = getattr(backend, name)(_on(backend, x, dtype))
    _check(backend, out, getattr(Kernels, name)(npx, x), dtype)
    empty = getattr(backend, name)(_on(backend, np.zeros((0, 3)), dtype))
    assert tuple(empty.shape) == (0, 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("use_weight", "use_pos_weight"), BCE_VARIANTS)
def test_bce_kernels_on_device(use_weight: bool, use_pos_weight: bool, dtype: str,
                               device: str) -> None:
    backend = backends.get_backend(device)
    a = {k: None if v is None else v.astype(dtype)
         for k, v in _bce_inputs(use_weight, use_pos_weight).items()}
    args = [_on(backend, a[k], dtype) for k in ("z", "y", "weight", "pos_weight")]
    out = backend.bce_with_logits(*args)
    _check(backend, out, Kernels.bce_with_logits(npx, a["z"], a["y"], a["weight"],
                                                 a["pos_weight"]), dtype)
    for grad in (np.array(0.25, dtype=dtype), _uniform((6, 4), -1, 1, seed=5).astype(dtype)):
        out = backend.bce_with_logits_backward(_on(backend, grad, dtype), *args)
        expected = Kernels.bce_with_logits_backward(npx, grad, a["z"], a["y"], a["weight"],
                                                    a["pos_weight"])
        _check(backend, out, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "axis"), [((5, 7), 1), ((5, 7), 0), ((2, 3, 4), -1),
                                             ((3,), 0)])
def test_log_softmax_kernels_on_device(shape: tuple[int, ...], axis: int, dtype: str,
                                       device: str) -> None:
    backend = backends.get_backend(device)
    x = _uniform(shape, -5, 5).astype(dtype)
    grad = _uniform(shape, -1, 1, seed=7).astype(dtype)
    output = backend.log_softmax(_on(backend, x, dtype), axis)
    expected = CPU.log_softmax(x, axis)
    _check(backend, output, expected, dtype)
    out = backend.log_softmax_backward(_on(backend, grad, dtype), output, axis)
    _check(backend, out, CPU.log_softmax_backward(grad, expected, axis), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("beta1", "weight_decay", "decoupled"), ADAM_VARIANTS)
def test_adam_update_on_device(beta1: float, weight_decay: float, decoupled: bool, dtype: str,
                               device: str) -> None:
    backend = backends.get_backend(device)
    param = _uniform((4, 3), -1, 1).astype(dtype)
    grads = [_uniform((4, 3), -1, 1, seed=10 + i).astype(dtype) for i in range(3)]
    options = {"lr": 0.01, "beta1": beta1, "beta2": 0.999, "eps": 1e-8,
               "weight_decay": weight_decay, "decoupled": decoupled}
    expected = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
    _run_adam(lambda *arrays, **kw: CPU.adam_update(*arrays, **kw),
              expected[0], grads, expected[1], expected[2], **options)
    state = [_on(backend, a, dtype) for a in (param, np.zeros_like(param), np.zeros_like(param))]
    _run_adam(backend.adam_update, state[0], [_on(backend, g, dtype) for g in grads], state[1],
              state[2], **options)
    for actual, wanted in zip(state, expected):
        _check(backend, actual, wanted, dtype)


# ----------------------------------------------------------------------------- the CuPy backend
class _FakeCurand:
    """CuPy's Generator as far as the backend uses it: cuRAND's states are a device array of
    bytes (here 48 bytes derived from the seed)."""

    def __init__(self, seed: int) -> None:
        states = np.random.default_rng(seed).integers(-128, 128, 48, dtype=np.int8)
        self.bit_generator = types.SimpleNamespace(_state=states)


# Its module imported over a stand-in `cupy` that is NumPy with a recording, identity `fuse`: the
# code that turns every declared kernel into a compiled one runs without CuPy or a GPU, and the
# "compiled" kernels (the traced Python, run by NumPy) are checked against the Python ones.
@pytest.fixture
def cupy_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fused_names: list[str] = []

    def fuse(kernel_name: str) -> Callable[[Any], Any]:
        fused_names.append(kernel_name)
        return lambda function: function

    fake = types.ModuleType("cupy")
    fake.__getattr__ = lambda name: getattr(np, name)  # type: ignore[method-assign]
    fake.fuse = fuse  # type: ignore[attr-defined]
    fake.asnumpy = np.asarray  # type: ignore[attr-defined]
    fake.random = types.SimpleNamespace(default_rng=_FakeCurand)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setitem(sys.modules, "cupyx", types.ModuleType("cupyx"))
    monkeypatch.setitem(sys.modules, "array_api_compat.cupy", npx)
    monkeypatch.delitem(sys.modules, "backends.cupy_backend", raising=False)
    monkeypatch.delattr(backends, "cupy_backend", raising=False)
    module = importlib.import_module("backends.cupy_backend")
    module.fused_names = fused_names  # for the tests' eyes only
    yield module
    sys.modules.pop("backends.cupy_backend", None)  # monkeypatch then restores a real one


def test_the_cupy_backend_compiles_every_declared_kernel(cupy_backend: Any) -> None:
    elementwise = {name for name, declared in kernels.KERNELS.items()
                   if isinstance(declared, kernels.Kernel)}
    assert elementwise >= {"sigmoid", "softplus", "erf", "bce_with_logits", "adam_step"}
    assert set(cupy_backend._COMPILED) == elementwise
    bind = cupy_backend.CupyBackend.bind_kernel
    for name, declared in kernels.KERNELS.items():
        bound = bind(CPU, declared)  # any backend object serves: only composites keep it
        if name in elementwise:
            assert bound is cupy_backend._COMPILED[name]
        else:
            assert bound.__func__ is declared.function and bound.__self__ is CPU
    assert cupy_backend.fused_names == []  # compiled on first use, not at import


def test_compiled_kernels_give_the_python_kernels_results(cupy_backend: Any) -> None:
    compiled = cupy_backend._COMPILED
    x = _uniform((4, 5), -6, 6)
    for name in ("sigmoid", "softplus", "erf"):
        np.testing.assert_array_equal(compiled[name](x), getattr(Kernels, name)(npx, x))
    a = _bce_inputs(True, True)
    np.testing.assert_array_equal(compiled["bce_with_logits"](*a.values()),
                                  Kernels.bce_with_logits(npx, *a.values()))
    for axis in (0, 1, 0):
        peak = np.max(x, axis=axis, keepdims=True)
        np.testing.assert_array_equal(compiled["log_softmax_sum"](x, peak, axis=axis),
                                      np.sum(np.exp(x - peak), axis=axis))
    # One kernel per static variant: the repeated axis reused its kernel.
    assert cupy_backend.fused_names == ["sigmoid", "softplus", "erf", "bce_with_logits",
                                        "log_softmax_sum", "log_softmax_sum"]
    with pytest.raises(TypeError, match="'sigmoid' got unexpected keyword arguments"):
        compiled["sigmoid"](x, axis=1)


def test_composites_take_the_compiled_form_on_a_compiling_backend(cupy_backend: Any) -> None:
    compiled = cupy_backend._COMPILED
    backend = types.SimpleNamespace(
        xp=npx, compiles_kernels=True, log_softmax_sum=compiled["log_softmax_sum"],
        log_softmax_finish=compiled["log_softmax_finish"], adam_step=compiled["adam_step"])
    x = _uniform((3, 6), -5, 5)
    for axis in (0, -1):
        np.testing.assert_allclose(Kernels.log_softmax.function(backend, x, axis),
                                   CPU.log_softmax(x, axis), rtol=1e-14, atol=1e-14)
    assert "log_softmax_finish" in cupy_backend.fused_names
    param, expected = _uniform((3, 2), -1, 1), _uniform((3, 2), -1, 1)
    expected[...] = param
    grad = _uniform((3, 2), -1, 1, seed=3)
    states = [np.zeros_like(param) for _ in range(4)]
    options = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1,
               "step": 1, "decoupled": True}
    Kernels.adam_update.function(backend, param, grad, states[0], states[1], **options)
    CPU.adam_update(expected, grad, states[2], states[3], **options)
    np.testing.assert_array_equal(param, expected)


def test_the_cuda_generator_state_is_its_seed_and_curands_states(cupy_backend: Any) -> None:
    device = contextlib.nullcontext()
    generator = cupy_backend.CupyGenerator(device, 7)
    state = generator.get_state()
    assert generator.kind == "XORWOW" and generator.state_size == len(state) == 8 + 48
    assert state[:8] == (7).to_bytes(8, "little")
    assert state[8:] == generator.cupy.bit_generator._state.tobytes()
    other = cupy_backend.CupyGenerator(device, 9)
    other.set_state(state)
    assert other.initial_seed == 7 and other.get_state() == state
    with pytest.raises(RuntimeError, match=r"^Expected a XORWOW generator state of size 56 but "
                                           r"found the input RNG state size to be 3$"):
        other.set_state(b"abc")
    assert other.get_state() == state


def test_a_kernel_cupy_cannot_fuse_runs_unfused_after_one_warning(cupy_backend: Any) -> None:
    kernel = cupy_backend._Fused("double", lambda x: x * 2)
    def broken(*args: Any) -> Any:
        raise NotImplementedError("fusion does not support this")

    kernel.fused = broken
    with pytest.warns(RuntimeWarning, match="could not compile kernel 'double'"):
        assert kernel(3) == 6
    assert kernel.fused is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        assert kernel(4) == 8


def test_a_user_error_in_a_fused_kernel_is_raised_not_hidden(cupy_backend: Any) -> None:
    def shapes_differ(x: Any) -> Any:
        raise ValueError("operands could not be broadcast together")

    kernel = cupy_backend._Fused("bad_input", shapes_differ)
    kernel.fused = shapes_differ
    with pytest.raises(ValueError, match="could not be broadcast"):
        kernel(1)
    assert kernel.fused is shapes_differ  # still compiled: the input was wrong, not the kernel


def test_the_cupy_backend_binds_cupyx_special_functions_and_computes_the_rest_on_the_host(
        cupy_backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.special

    # A cupyx.scipy.special that has gammaln but not erfcx, as CuPy versions differ.
    special = types.ModuleType("cupyx.scipy.special")
    special.gammaln = scipy.special.gammaln  # type: ignore[attr-defined]
    scipy_module = types.ModuleType("cupyx.scipy")
    scipy_module.special = special  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cupyx.scipy", scipy_module)
    monkeypatch.setitem(sys.modules, "cupyx.scipy.special", special)
    monkeypatch.setattr(sys.modules["cupyx"], "scipy", scipy_module, raising=False)
    backend = object.__new__(cupy_backend.CupyBackend)  # no device needed for binding
    backend.xp = npx
    assert backend.bind_special("gammaln", "scipy.special") is scipy.special.gammaln
    assert backend.bind_special("fmod", "numpy") is np.fmod  # cupy's own (NumPy here)
    erfcx = backend.bind_special("erfcx", "scipy.special")  # not in cupyx: on the host
    x = np.array([0.5, 2.0])
    np.testing.assert_array_equal(erfcx(x), scipy.special.erfcx(x))
    z = cupy_backend.CupyBackend.complex_of(backend, np.array([1.0, np.inf]),
                                            np.array([np.inf, 2.0]))
    assert z.dtype == np.complex128 and z.real.tolist() == [1.0, np.inf]
    assert z.imag.tolist() == [np.inf, 2.0]
    assert cupy_backend.CupyBackend.isin(backend, np.array([1, 2, 3]), np.array([2])).tolist() \
        == [False, True, False]


# Shapes on both sides of NumPy's BLAS path (rows >= 8, columns >= 2, rows * columns >= 256)
OUTER_SHAPES = [(64, 128, 64), (64, 10, 128), (3, 8, 32), (5, 7, 40), (4, 16, 1), (2, 4, 3),
                (0, 16, 16), (6, 256, 2)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.complex64])
@pytest.mark.parametrize(("size", "rows", "columns"), OUTER_SHAPES)
def test_numpy_outer_each_is_einsums_to_the_bit(size: int, rows: int, columns: int,
                                                dtype: Any) -> None:
    rng = np.random.default_rng(size + rows + columns)
    a = (rng.standard_normal((size, rows)) * 4).astype(dtype)
    b = (rng.standard_normal((size, columns + 3)) * 4).astype(dtype)[:, 1:columns + 1]  # strided
    out = CPU.outer_each(a, b)
    expected = np.einsum("bo,bi->boi", a, b)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    assert out.flags.c_contiguous  # per-example gradients: a contiguous tensor, as PyTorch's
    np.testing.assert_array_equal(out, expected)
    if np.issubdtype(dtype, np.floating):
        np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))


def test_numpy_outer_each_keeps_special_values_as_einsum() -> None:
    a = np.array([[-0.0, 1.0, np.inf, np.nan, -2.0, 0.0, 3.0, -np.inf]] * 4, np.float32)
    b = np.array([[0.0, -0.0, np.inf, 1.0, -1.0, 2.0, 0.5, -3.0] * 4] * 4, np.float32)
    with np.errstate(invalid="ignore"):
        out, expected = CPU.outer_each(a, b), np.einsum("bo,bi->boi", a, b)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))


@pytest.mark.parametrize("dtype", DTYPES)
def test_outer_each_on_device(dtype: str, device: str) -> None:
    backend = backends.get_backend(device)
    for size, rows, columns in OUTER_SHAPES[:5]:
        a = _uniform((size, rows), -3, 3).astype(dtype)
        b = _uniform((size, columns), -3, 3, seed=4).astype(dtype)
        out = backend.outer_each(_on(backend, a, dtype), _on(backend, b, dtype))
        _check(backend, out, np.einsum("bo,bi->boi", a, b), dtype)
