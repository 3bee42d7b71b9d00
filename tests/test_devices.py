"""Devices: parsing, the public device API, transfers and their gradients, mixed-device errors,
numpy() off the CPU, and the CUDA error paths (simulated with import machinery where there is no
CuPy or GPU).

Mixed-device tests use the strict backend's two devices (strict:0, strict:1) and the CPU, so
they run on every machine.
"""

from __future__ import annotations

import pickle
import sys
import types
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np
import pytest

import autodiff
import backends

MISMATCH = ("Expected all tensors to be on the same device, but found at least two devices, "
            "{} and {}!")


def _values(tensor: autodiff.Tensor) -> np.ndarray:
    return np.array(tensor.tolist())


def _on_its_device(tensor: autodiff.Tensor) -> bool:
    """The array really lives where the tensor says (not just the label)."""
    return array_api_compat.device(tensor._data) == tensor._backend.native_device


# ----------------------------------------------------------------------------- parsing
SAME_AS_TORCH = [("cuda:1",), ("cuda", 1), ("cuda",), ("cpu",), ("cpu:0",), ("cpu", 0),
                 ("cuda", 0), (3,)]


@pytest.mark.parametrize("args", SAME_AS_TORCH, ids=str)
def test_device_repr_str_fields_match_torch(args: tuple[Any, ...]) -> None:
    torch = pytest.importorskip("torch")
    if args == (3,) and not autodiff.cuda.is_available():
        # a bare ordinal is the accelerator's device: without one, both refuse it
        for library in (autodiff, torch):
            with pytest.raises(RuntimeError, match=r"^Cannot access accelerator device when "
                                                   r"none is available\.$"):
                library.device(3)
        return
    ours = autodiff.device(*args)
    # torch.device(3) needs an accelerator to be present; ("cuda", 3) is what it means.
    theirs = torch.device("cuda", 3) if args == (3,) else torch.device(*args)
    assert (repr(ours), str(ours), ours.type, ours.index) == (
        repr(theirs), str(theirs), theirs.type, theirs.index)


def test_device_forms_are_equal_and_hash_alike() -> None:
    forms = [autodiff.device("cuda:1"), autodiff.device("cuda", 1),
             autodiff.device(autodiff.device("cuda:1"))]
    if autodiff.cuda.is_available():  # a bare ordinal needs an accelerator
        forms.append(autodiff.device(1))
    assert all(form == forms[0] for form in forms)
    assert len({hash(form) for form in forms}) == 1
    assert len({*forms}) == 1
    assert autodiff.device("cuda:1") != autodiff.device("cuda:0")
    assert autodiff.device("cpu") != autodiff.device("cpu:0")  # as in PyTorch
    assert autodiff.device("cuda") != "cuda"  # no comparison with strings (PyTorch neither)
    assert str(autodiff.device("strict", 1)) == "strict:1"


def test_device_is_immutable_and_pickles() -> None:
    device = autodiff.device("cuda:2")
    with pytest.raises(AttributeError):
        device.index = 3  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(device)) == device


BAD_DEVICES = [
    (("cuda:x",), RuntimeError, "Invalid device string: 'cuda:x'"),
    (("cuda:-1",), RuntimeError, "Invalid device string: 'cuda:-1'"),
    (("cuda:01",), RuntimeError, "Invalid device string: 'cuda:01'"),
    ((" cuda",), RuntimeError, "Invalid device string: ' cuda'"),
    (("cuda:1:2",), RuntimeError, "Invalid device string: 'cuda:1:2'"),
    (("cuda", -1), RuntimeError, "Device index must not be negative"),
    (("cuda:1", 1), RuntimeError,
     "type (string) must not include an index because index was passed explicitly: cuda:1"),
    (("cuda", True), TypeError, "device(): argument 'index' (position 2) must be int, not bool"),
]


@pytest.mark.parametrize(("args", "error", "message"), BAD_DEVICES, ids=lambda v: str(v))
def test_bad_device_strings_raise_torchs_messages(args: tuple[Any, ...], error: type,
                                                  message: str) -> None:
    with pytest.raises(error) as ours:
        autodiff.device(*args)
    assert str(ours.value) == message
    torch = pytest.importorskip("torch")
    with pytest.raises(error) as theirs:
        torch.device(*args)
    assert str(theirs.value) == message


def test_unknown_device_type_lists_ours() -> None:
    with pytest.raises(RuntimeError, match=r"^Expected one of cpu, cuda, strict, meta device type "
                                           r"at start of device string: tpu$"):
        autodiff.device("tpu")
    with pytest.raises(TypeError, match="device\\(\\) received an invalid combination"):
        autodiff.device(None)


def test_backends_are_shared_by_every_name_of_a_device() -> None:
    cpu = backends.get_backend("cpu")
    assert backends.get_backend("cpu:0") is cpu
    assert backends.get_backend(autodiff.device("cpu", 0)) is cpu
    assert backends.get_backend(autodiff.device("cpu")) is cpu
    assert backends.get_backend("strict") is backends.get_backend("strict:0")
    assert backends.get_backend("strict:0") is not backends.get_backend("strict:1")
    assert autodiff.zeros(1, device="cpu:0").device == autodiff.device("cpu")
    with pytest.raises(RuntimeError, match="CPU device index must be -1 or zero, given 2"):
        autodiff.zeros(1, device="cpu:2")
    with pytest.raises(RuntimeError, match=r"strict:2 .* \(strict:0, strict:1\)"):
        autodiff.zeros(1, device="strict:2")


# ----------------------------------------------------------------------------- creation
def _creations(device: str) -> dict[str, Callable[[], autodiff.Tensor]]:
    source = autodiff.ones(2, 3, device=device)
    cpu = autodiff.ones(2, 3)
    return {
        "tensor": lambda: autodiff.tensor([[1.0, 2.0], [3.0, 4.0]], device=device),
        "tensor_from_numpy_array": lambda: autodiff.tensor(np.ones((2, 2)), device=device),
        "tensor_from_other_device": lambda: autodiff.tensor(cpu, device=device),
        "as_tensor": lambda: autodiff.as_tensor([1, 2, 3], device=device),
        "zeros": lambda: autodiff.zeros(2, 3, device=device),
        "ones": lambda: autodiff.ones((2, 3), device=device),
        "empty": lambda: autodiff.empty(2, 3, device=device),
        "full": lambda: autodiff.full((2, 3), 1.5, device=device),
        "full_tensor_value": lambda: autodiff.full((2, 3), autodiff.tensor(2.0), device=device),
        "eye": lambda: autodiff.eye(3, device=device),
        "arange_int": lambda: autodiff.arange(5, device=device),
        "arange_float": lambda: autodiff.arange(0.0, 1.0, 0.25, device=device),
        "linspace": lambda: autodiff.linspace(0, 1, 5, device=device),
        "rand": lambda: autodiff.rand(2, 3, device=device),
        "randn": lambda: autodiff.randn(2, 3, device=device),
        "randint": lambda: autodiff.randint(0, 10, (2, 3), device=device),
        "randperm": lambda: autodiff.randperm(6, device=device),
        "zeros_like": lambda: autodiff.zeros_like(cpu, device=device),
        "ones_like": lambda: autodiff.ones_like(cpu, device=device),
        "full_like": lambda: autodiff.full_like(cpu, 2.0, device=device),
        "empty_like": lambda: autodiff.empty_like(cpu, device=device),
        "rand_like": lambda: autodiff.rand_like(cpu, device=device),
        "randn_like": lambda: autodiff.randn_like(cpu, device=device),
        "zeros_like_inherits": lambda: autodiff.zeros_like(source),
        "randn_like_inherits": lambda: autodiff.randn_like(source),
    }


CREATIONS = list(_creations("cpu"))


@pytest.mark.parametrize("name", CREATIONS)
def test_creation_functions_put_data_on_the_device(name: str, device: str) -> None:
    tensor = _creations(device)[name]()
    assert tensor.device == backends.get_backend(device).device
    assert _on_its_device(tensor)


def test_creation_values_are_the_same_on_every_device(device: str) -> None:
    assert _values(autodiff.arange(0.0, 1.0, 0.25, device=device)).tolist() == [0, 0.25, 0.5,
                                                                                0.75]
    assert _values(autodiff.eye(2, device=device)).tolist() == [[1, 0], [0, 1]]
    assert sorted(_values(autodiff.randperm(5, device=device)).tolist()) == [0, 1, 2, 3, 4]
    values = _values(autodiff.randint(3, 7, (200,), device=device))
    assert values.min() >= 3 and values.max() < 7


def test_backend_dtype_predicates_agree_with_the_dtypes(device: str) -> None:
    """The tape asks a backend about dtypes only through these (never its private tables)."""
    backend = backends.get_backend(device)
    names = [name for name in backends.base.DTYPE_NAMES if name in autodiff.dtypes.BY_NAME]
    present = []
    for name in names:
        if not backend.has_dtype(name):  # array-api-strict has no float16, CuPy no bfloat16
            with pytest.raises(TypeError, match=f"torch.{name} is not supported on device"):
                backend.native_dtype(name)
            continue
        native = backend.native_dtype(name)
        present.append(name)
        kind = autodiff.dtypes.BY_NAME[name]
        assert backend.name_of_dtype(native) == name
        assert backend.dtype_name(backend.zeros((1,), name)) == name
        assert backend.is_floating(native) is kind.is_floating_point
        assert backend.is_bool(native) is (name == "bool")
        assert backend.is_integer(native) is (kind.category == 1)
        assert backend.is_complex(native) is kind.is_complex
        assert (native in backend.floating_dtypes) is kind.is_floating_point
        assert (native in backend.complex_dtypes) is kind.is_complex
        assert (native == backend.bool_dtype) is (name == "bool")
    assert {"bool", "uint8", "int64", "float32", "float64", "complex64",
            "complex128"} <= set(present)


def test_manual_seed_reproduces_random_numbers(device: str) -> None:
    autodiff.manual_seed(7)
    first = _values(autodiff.randn(5, device=device))
    autodiff.manual_seed(7)
    assert _values(autodiff.randn(5, device=device)).tolist() == first.tolist()


# ----------------------------------------------------------------------------- scatter-add
def _index_add_cases() -> list[Any]:
    rng = np.random.default_rng(3)
    many = rng.integers(0, 37, 1000)
    return [
        pytest.param((5,), lambda a: (a([0, 3, 3, 1, 3, 0]),), (6,), id="repeated-indices"),
        pytest.param((3, 4), lambda a: (a([0, 2, 0, 0]), a([1, 3, 1, 1])), (4,),
                     id="repeated-pairs"),
        pytest.param((3, 4), lambda a: (a(np.arange(12).reshape(3, 4) % 5 == 0),), (3,),
                     id="bool-mask"),
        pytest.param((3, 4), lambda a: (slice(1, 3), 2), (2,), id="basic"),
        pytest.param((5,), lambda a: (a([4, 4, 4]),), (1,), id="broadcast-values"),
        pytest.param((37,), lambda a: (a(many),), (1000,), id="1000-into-37"),
        pytest.param((4,), lambda a: (a(np.zeros(0, dtype=np.int64)),), (0,), id="empty"),
    ]


@pytest.mark.parametrize(("shape", "make_key", "values_shape"), _index_add_cases())
def test_index_add_accumulates_repeats_like_numpy_add_at(
        shape: tuple[int, ...], make_key: Callable[..., tuple[Any, ...]],
        values_shape: tuple[int, ...], device: str) -> None:
    backend = backends.get_backend(device)
    target = np.random.default_rng(0).uniform(-1, 1, shape)
    values = np.random.default_rng(1).uniform(-1, 1, values_shape)
    expected = target.copy()
    np.add.at(expected, make_key(np.asarray), values)

    def on_device(array: Any) -> Any:
        array = np.asarray(array)
        return backend.asarray(array, "bool" if array.dtype == bool else "int64")

    out = backend.asarray(target, "float64", copy=True)
    result = backend.index_add(out, make_key(on_device), backend.asarray(values, "float64"))
    assert result is out  # in place
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- transfers
def test_to_moves_values_and_keeps_dtype(device: str) -> None:
    x = autodiff.tensor([[1.0, -2.0], [3.5, 4.0]], dtype=autodiff.float64)
    moved = x.to(device)
    assert moved.device == backends.get_backend(device).device and _on_its_device(moved)
    assert moved.dtype is autodiff.float64
    assert _values(moved).tolist() == _values(x).tolist()
    back = moved.cpu()
    assert back.device == autodiff.device("cpu") and _values(back).tolist() == _values(x).tolist()
    both = x.to(device, autodiff.float32)
    assert both.dtype is autodiff.float32 and both.device == moved.device
    assert x.to(moved).device == moved.device  # to(other_tensor)
    assert moved.to(device) is moved  # nothing to do: the tensor itself, as in PyTorch
    copied = moved.to(device, copy=True)
    assert copied is not moved and _values(copied).tolist() == _values(x).tolist()
    with autodiff.no_grad():
        copied.add_(1)
    assert _values(moved).tolist() == [[1.0, -2.0], [3.5, 4.0]]  # a copy, not a view


def test_moved_tensor_does_not_alias_its_source() -> None:
    x = autodiff.zeros(3)
    moved = x.to("strict:1")
    with autodiff.no_grad():
        x.add_(1)
    assert _values(moved).tolist() == [0, 0, 0]
    again = moved.to("strict:0")
    with autodiff.no_grad():
        moved.add_(2)
    assert _values(again).tolist() == [0, 0, 0]


PATHS = [("cpu", "strict:1"), ("strict:1", "cpu"), ("strict:0", "strict:1"),
         ("strict:1", "strict:0")]


@pytest.mark.parametrize(("source", "target"), PATHS)
def test_to_across_devices_is_differentiable(source: str, target: str) -> None:
    w = autodiff.tensor([1.0, 2.0, 3.0], device=source, requires_grad=True)
    moved = w.to(target)
    assert moved.grad_fn is not None and moved.grad_fn.name() == "ToCopyBackward0"
    loss = (moved * moved).sum()
    loss.backward()
    assert w.grad is not None
    assert w.grad.device == w.device and _on_its_device(w.grad)  # the gradient came home
    assert _values(w.grad).tolist() == [2.0, 4.0, 6.0]


def test_gradient_flows_through_a_chain_of_devices_with_dtype_changes() -> None:
    w = autodiff.tensor([0.5, -1.0], dtype=autodiff.float32, requires_grad=True)
    y = w.to("strict:1", autodiff.float64).to("strict:0") * 3
    z = (y.to("cpu", autodiff.float32) ** 2).sum()
    z.backward()
    assert w.grad is not None and w.grad.dtype is autodiff.float32
    assert w.grad.device == autodiff.device("cpu")
    np.testing.assert_allclose(_values(w.grad), [9.0, -18.0])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_double_backward_across_devices() -> None:
    w = autodiff.tensor([1.0, 2.0], dtype=autodiff.float64, device="strict:1",
                        requires_grad=True)
    (w.to("cpu") ** 3).sum().backward(create_graph=True)
    grad = w.grad
    assert grad is not None and grad.device == w.device and grad.grad_fn is not None
    np.testing.assert_allclose(_values(grad), [3.0, 12.0])
    w.grad = None
    grad.sum().backward()
    assert w.grad is not None and w.grad.device == w.device
    np.testing.assert_allclose(_values(w.grad), [6.0, 12.0])


def test_device_properties_of_tensors() -> None:
    x = autodiff.zeros(2, device="strict:1")
    assert (x.get_device(), x.is_cpu, x.is_cuda) == (1, False, False)
    assert (autodiff.zeros(2).get_device(), autodiff.zeros(2).is_cpu) == (-1, True)


# ----------------------------------------------------------------------------- mixed devices
MIXED = [("strict:0", "strict:1"), ("cpu", "strict:1"), ("strict:1", "cpu")]


@pytest.mark.parametrize(("first", "second"), MIXED)
@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a @ b, lambda a, b: a < b,
    lambda a, b: autodiff.where(a > 0, a, b), lambda a, b: autodiff.maximum(a, b),
], ids=["add", "mul", "matmul", "lt", "where", "maximum"])
def test_ops_mixing_devices_raise(op: Callable[..., Any], first: str, second: str) -> None:
    a = autodiff.ones(2, 2, device=first, requires_grad=True)
    b = autodiff.ones(2, 2, device=second)
    with pytest.raises(RuntimeError) as error:
        op(a, b)
    devices = {str(a.device), str(b.device)}
    assert str(error.value) in {MISMATCH.format(x, y) for x in devices for y in devices}


def test_python_scalars_mix_with_any_device() -> None:
    x = autodiff.tensor([1.0, 2.0], device="strict:1", requires_grad=True)
    y = (2 * x + 1.5) / 2 - 1
    assert y.device == x.device and _on_its_device(y)
    assert _values(y).tolist() == [0.75, 1.75]


def test_in_place_mixing_devices_raises_before_changing_anything() -> None:
    x = autodiff.ones(3, device="strict:1")
    other = autodiff.ones(3, device="strict:0")
    version = x._version
    with pytest.raises(RuntimeError, match="strict:1 and strict:0"):
        x.add_(other)
    assert x._version == version and _values(x).tolist() == [1, 1, 1]


_SAME_DEVICE = "Please ensure that the gradient and the tensor are on the same device"


@pytest.mark.parametrize(("tensor_device", "grad_device", "message"), [
    ("strict:1", "cpu", "attempting to assign a gradient with device type 'cpu' to a tensor "
                        f"with device type 'strict'. {_SAME_DEVICE}"),
    ("cpu", "strict:1", "attempting to assign a gradient with device type 'strict' to a tensor "
                        f"with device type 'cpu'. {_SAME_DEVICE}"),
    ("cpu", "meta", "attempting to assign a gradient with device type 'meta' to a tensor with "
                    f"device type 'cpu'. {_SAME_DEVICE}"),
    ("strict:1", "strict:0", "attempting to assign a gradient located on device with index '0' "
                             f"to a tensor located on device with index '1'. {_SAME_DEVICE}"),
])
def test_assigning_a_grad_from_another_device_raises(tensor_device: str, grad_device: str,
                                                     message: str) -> None:
    w = autodiff.ones(3, device=tensor_device, requires_grad=True)
    with pytest.raises(RuntimeError) as error:
        w.grad = autodiff.ones(3, device=grad_device)
    assert str(error.value) == message
    assert w.grad is None


def test_assigning_a_grad_checks_dtype_then_device_then_size() -> None:
    w = autodiff.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="with dtype 'double'"):
        w.grad = autodiff.ones(2, dtype=autodiff.float64, device="strict:1")
    with pytest.raises(RuntimeError, match="with device type 'strict'"):
        w.grad = autodiff.ones(2, device="strict:1")
    assert w.grad is None


@pytest.mark.parametrize(("tensor_device", "grad_device"), [("cpu", "meta"), ("meta", "cpu")])
def test_assigning_a_grad_from_another_device_matches_pytorch(tensor_device: str,
                                                             grad_device: str) -> None:
    torch = pytest.importorskip("torch")
    errors = []
    for library in (autodiff, torch):
        w = library.ones(3, device=tensor_device, requires_grad=True)
        with pytest.raises(RuntimeError) as error:
            w.grad = library.ones(3, device=grad_device)
        errors.append(str(error.value))
    assert errors[0] == errors[1]


def test_numpy_off_the_cpu_raises_pytorchs_message() -> None:
    x = autodiff.ones(2, device="strict:1")
    message = ("can't convert strict:1 device type tensor to numpy. Use Tensor.cpu() to copy the "
               "tensor to host memory first.")
    with pytest.raises(TypeError) as error:
        x.numpy()
    assert str(error.value) == message
    with pytest.raises(TypeError, match=r"Use Tensor\.cpu\(\)"):
        np.asarray(x)
    assert x.cpu().numpy().tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------------- CUDA errors
@pytest.fixture
def no_cuda_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget any CUDA backend made so far, so the next request goes through the checks."""
    kept = {name: backend for name, backend in backends._backends.items()
            if backend.device.type != "cuda"}
    monkeypatch.setattr(backends, "_backends", kept)


@pytest.fixture
def without_cupy(monkeypatch: pytest.MonkeyPatch, no_cuda_backends: None) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` now raises ImportError


def _fake_cupy(monkeypatch: pytest.MonkeyPatch, count: Any, current: int = 0) -> list[int]:
    """CuPy 'installed' with `count` GPUs (an int, or an exception its runtime raises).
    Returns the list set_device calls are recorded in."""
    calls: list[int] = []

    def cuda_device_count() -> int:
        if isinstance(count, Exception):
            raise count
        return int(count)

    class CupyBackend:
        def __init__(self, index: int) -> None:
            raise AssertionError("a failed check must not reach the backend")

    module = types.ModuleType("backends.cupy_backend")
    module.cuda_device_count = cuda_device_count  # type: ignore[attr-defined]
    module.current_device = lambda: current  # type: ignore[attr-defined]
    module.set_device = calls.append  # type: ignore[attr-defined]
    module.CupyBackend = CupyBackend  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cupy", types.ModuleType("cupy"))
    monkeypatch.setitem(sys.modules, "backends.cupy_backend", module)
    return calls


def _snapshot(tensor: autodiff.Tensor) -> tuple[Any, ...]:
    return (tensor._data, _values(tensor).tolist(), tensor._version, tensor.grad,
            tensor.grad_fn, tensor.requires_grad, tensor.device)


def _attempts(device: str) -> tuple[autodiff.Tensor, list[Callable[[], Any]]]:
    """A tensor with a gradient, and every way of asking for `device` with it."""
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    return x, [
        lambda: x.to(device),
        lambda: x.cuda() if device == "cuda" else x.cuda(int(device.split(":")[1])),
        lambda: autodiff.tensor(x, device=device),
        lambda: autodiff.zeros(2, device=device),
        lambda: autodiff.zeros_like(x, device=device),
        lambda: autodiff.randn(2, device=device),
    ]


def _assert_all_raise(device: str, pattern: str) -> str:
    x, attempts = _attempts(device)
    before = _snapshot(x)
    messages = set()
    for attempt in attempts:
        with pytest.raises(RuntimeError, match=pattern) as error:
            attempt()
        messages.add(str(error.value))
    after = _snapshot(x)
    assert after[1:] == before[1:] and after[0] is before[0]  # nothing was changed
    assert len(messages) == 1
    message = messages.pop()
    assert "\n" not in message
    return message


@pytest.mark.usefixtures("without_cupy")
def test_cuda_without_cupy_names_the_fix() -> None:
    message = _assert_all_raise("cuda", "^CUDA backend requires CuPy")
    assert "pip install 'autodiff[cuda]'" in message
    assert _assert_all_raise("cuda:1", "^CUDA backend requires CuPy") == message
    assert autodiff.cuda.is_available() is False
    assert autodiff.cuda.device_count() == 0
    for call in (autodiff.cuda.current_device, autodiff.cuda.synchronize,
                 autodiff.cuda.memory_allocated, lambda: autodiff.cuda.set_device(0),
                 autodiff.cuda.initial_seed, autodiff.cuda.get_rng_state,
                 lambda: autodiff.cuda.set_rng_state(autodiff.get_rng_state())):
        with pytest.raises(RuntimeError, match=r"^CUDA backend requires CuPy"):
            call()
    autodiff.cuda.empty_cache()  # nothing cached, nothing to do: no error (as in PyTorch)
    # Seeding is safe without CUDA, as PyTorch documents: nothing to seed.
    autodiff.cuda.manual_seed(0)
    autodiff.cuda.seed()
    autodiff.cuda.seed_all()
    autodiff.cuda.manual_seed_all(0)  # seeds CUDA devices made later: none here
    assert autodiff.cuda.default_generators == ()
    assert autodiff.cuda.get_rng_state_all() == []


@pytest.mark.usefixtures("no_cuda_backends")
def test_cuda_with_cupy_but_no_driver_shows_cupys_error(monkeypatch: pytest.MonkeyPatch) -> None:
    cupy_error = RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    _fake_cupy(monkeypatch, cupy_error)
    message = _assert_all_raise("cuda", "no usable CUDA GPU was found")
    assert "cudaErrorNoDevice: no CUDA-capable device is detected" in message
    assert autodiff.cuda.is_available() is False
    assert autodiff.cuda.device_count() == 0


@pytest.mark.usefixtures("no_cuda_backends")
def test_cuda_with_cupy_and_zero_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_cupy(monkeypatch, 0)
    _assert_all_raise("cuda:0", "no CUDA GPU was found")
    assert autodiff.cuda.is_available() is False


@pytest.mark.usefixtures("no_cuda_backends")
@pytest.mark.parametrize(("count", "listed"), [(1, "1 CUDA device (cuda:0)"),
                                               (2, "2 CUDA devices (cuda:0, cuda:1)")])
def test_invalid_device_ordinal_lists_the_devices(monkeypatch: pytest.MonkeyPatch, count: int,
                                                  listed: str) -> None:
    calls = _fake_cupy(monkeypatch, count)
    message = _assert_all_raise("cuda:7", "^CUDA error: invalid device ordinal")
    assert message.endswith(f"cuda:7 was asked for, but this machine has {listed}")
    assert autodiff.cuda.is_available() is True
    assert autodiff.cuda.device_count() == count
    assert autodiff.cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        autodiff.cuda.set_device(7)
    autodiff.cuda.set_device("cuda:0")
    assert calls == [0]
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        autodiff.cuda.set_device("cpu")


@pytest.mark.usefixtures("no_cuda_backends")
def test_bare_cuda_means_the_current_device(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_cupy(monkeypatch, 1, current=3)  # a current device the runtime says is not there
    _assert_all_raise("cuda", "cuda:3 was asked for")


# ----------------------------------------------------------------------------- on a GPU
@pytest.mark.skipif(not autodiff.cuda.is_available(), reason="no CUDA GPU (CuPy and a GPU needed)")
def test_cuda_api_on_a_gpu() -> None:
    index = autodiff.cuda.current_device()
    assert 0 <= index < autodiff.cuda.device_count()
    x = autodiff.ones(1024, 1024, device="cuda")
    assert x.device == autodiff.device("cuda", index) and x.is_cuda
    assert autodiff.cuda.memory_allocated() >= 4 * 1024 * 1024
    autodiff.cuda.synchronize()
    del x
    autodiff.cuda.empty_cache()
    autodiff.cuda.manual_seed_all(5)
    first = _values(autodiff.randn(4, device="cuda"))
    autodiff.cuda.manual_seed(5)
    assert _values(autodiff.randn(4, device="cuda")).tolist() == first.tolist()
    assert isinstance(autodiff.cuda.get_device_name(), str)
    with pytest.raises(TypeError, match="can't convert cuda:"):
        autodiff.ones(2, device="cuda").numpy()


def test_a_zero_dim_cpu_tensor_joins_an_op_on_another_device_like_a_number() -> None:
    """PyTorch lets a 0-d CPU tensor take part in a CUDA op; the strict backend's second device
    stands in for CUDA here. The CPU scalar's gradient comes back to the CPU."""
    a = autodiff.ones(3, device="strict:1", requires_grad=True)
    scale = autodiff.tensor(2.0, requires_grad=True)
    out = a * scale
    assert out.device == autodiff.device("strict:1")
    out.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0, 2.0] and a.grad.device == autodiff.device("strict:1")
    assert scale.grad.item() == 3.0 and scale.grad.device == autodiff.device("cpu")


def test_tensors_with_dimensions_on_two_devices_still_raise() -> None:
    with pytest.raises(RuntimeError, match="found at least two devices, strict:1 and cpu!"):
        autodiff.ones(3, device="strict:1") + autodiff.ones(3)
    with pytest.raises(RuntimeError, match="found at least two devices, strict:1 and strict:0!"):
        autodiff.ones(3, device="strict:1") + autodiff.ones((), device="strict:0")
