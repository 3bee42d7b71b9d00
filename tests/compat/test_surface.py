"""What scripts written for PyTorch probe and call beyond the ops: torch.accelerator,
torch.backends.* (availability answered for autodiff's own backends, flags kept with PyTorch's
defaults and checks), the torch-level questions (is_floating_point, is_nonzero, ...),
scalar_tensor, fill, detach/detach_, the removed Variable API (volatile, reinforce), legacy
conversions (short, char, byte), memory placement (pin_memory, share_memory_) and the Python
element maps (apply_, map_, map2_). Asserted outcomes run everywhere; with torch installed the
environment-independent cases also run through PyTorch and the outcomes are compared."""

from __future__ import annotations

import multiprocessing
import sys
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import autodiff
import backends
from tests.helpers import raises, raises_starting

_NO_ACCELERATOR = ("RuntimeError", "Cannot access accelerator device when none is available.")


def _outcome(lib: Any, call: Callable[[Any], Any]) -> Any:
    """The result (a tensor as dtype, shape, requires_grad, values), any warnings, or the
    exception type and message."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call(lib)
    except Exception as error:
        return type(error).__name__, str(error)
    if isinstance(result, lib.Tensor):
        result = (str(result.dtype).split(".")[-1], tuple(result.shape), result.requires_grad,
                  result.tolist())
    messages = [(warning.category.__name__, str(warning.message)) for warning in caught]
    return (result, messages) if messages else result


def _set_benchmark(t: Any, value: Any) -> Any:
    try:
        t.backends.cudnn.benchmark = value
        return t.backends.cudnn.benchmark
    finally:
        t.backends.cudnn.benchmark = False


def _cudnn_flags_block(t: Any) -> Any:
    with t.backends.cudnn.flags(enabled=False, benchmark=True):
        inside = (t.backends.cudnn.enabled, t.backends.cudnn.benchmark)
    return inside, (t.backends.cudnn.enabled, t.backends.cudnn.benchmark)


def _set_matmul(t: Any, name: str, value: Any) -> Any:
    matmul = t.backends.cuda.matmul
    before = getattr(matmul, name)
    try:
        setattr(matmul, name, value)
        return getattr(matmul, name)
    finally:
        setattr(matmul, name, before)


def _fill_gradient(t: Any) -> Any:
    value = t.tensor(3.0, requires_grad=True)
    out = t.fill(t.ones(2, requires_grad=True), value)
    out.sum().backward()
    return out.grad_fn.name(), value.grad.item()


def _detach_non_leaf(t: Any) -> Any:
    y = t.ones(2, requires_grad=True) * 2
    assert y.detach_() is y
    return y.requires_grad, y.grad_fn, y.is_leaf


def _shared(t: Any) -> Any:
    x = t.ones(2)
    before = x.is_shared()
    assert x.share_memory_() is x
    return before, x.is_shared(), x.tolist(), x._version


# label -> (call, expected) where the outcome is the same here as in a CPU build of PyTorch
CASES: dict[str, tuple[Callable[[Any], Any], Any]] = {
    # backends: availability and flags
    "mps": (lambda t: (t.backends.mps.is_available(), t.backends.mps.is_built()),
            (False, False)),
    "cudnn defaults": (
        lambda t: (t.backends.cudnn.enabled, t.backends.cudnn.benchmark,
                   t.backends.cudnn.deterministic, t.backends.cudnn.allow_tf32),
        (True, False, False, True)),
    "cudnn.benchmark = True": (lambda t: _set_benchmark(t, True), True),
    "cudnn.benchmark = 1": (lambda t: _set_benchmark(t, 1),
                            ("RuntimeError", "set_benchmark_cudnn expects a bool, but got int")),
    "cudnn.flags block": (_cudnn_flags_block, ((False, True), (True, False))),
    "mkldnn.enabled": (lambda t: t.backends.mkldnn.enabled, True),
    "cuda.matmul defaults": (
        lambda t: (t.backends.cuda.matmul.allow_tf32,
                   t.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
                   t.backends.cuda.matmul.allow_bf16_reduced_precision_reduction),
        (False, True, True)),
    "cuda.matmul.allow_tf32 = True": (lambda t: _set_matmul(t, "allow_tf32", True), True),
    "cuda.matmul.allow_tf32 = 1": (
        lambda t: _set_matmul(t, "allow_tf32", 1),
        ("RuntimeError", "set_allow_tf32_cublas expects a bool, but got int")),
    "fp16 reduction (False,)": (
        lambda t: _set_matmul(t, "allow_fp16_reduced_precision_reduction", (False,)), False),
    "fp16 reduction 1": (
        lambda t: _set_matmul(t, "allow_fp16_reduced_precision_reduction", 1),
        ("TypeError", "allow_fp16_reduced_precision_reduction expects a bool or a tuple/list of "
                      "bools, but got <class 'int'>")),
    "fp16 reduction ()": (
        lambda t: _set_matmul(t, "allow_fp16_reduced_precision_reduction", ()),
        ("TypeError", "allow_fp16_reduced_precision_reduction expects at least one boolean "
                      "argument")),
    "bf16 reduction (True, False)": (
        lambda t: _set_matmul(t, "allow_bf16_reduced_precision_reduction", (True, False)),
        ("RuntimeError", "allow_splitk=False is not supported when reduced precision "
                         "reductions are enabled")),
    "bf16 reduction (True, 1)": (
        lambda t: _set_matmul(t, "allow_bf16_reduced_precision_reduction", (True, 1)),
        ("TypeError", "allow_bf16_reduced_precision_reduction expects a bool for allow_splitk, "
                      "but got <class 'int'>")),
    "cuda.matmul unknown": (lambda t: t.backends.cuda.matmul.allow_everything,
                            ("AttributeError", "Unknown attribute allow_everything")),
    # questions about a tensor
    "is_floating_point": (
        lambda t: (t.is_floating_point(t.ones(2)), t.is_floating_point(t.ones(2, dtype=t.long))),
        (True, False)),
    "is_floating_point(1.0)": (
        lambda t: t.is_floating_point(1.0),
        ("TypeError", "is_floating_point(): argument 'input' (position 1) must be Tensor, not "
                      "float")),
    "is_nonzero": (lambda t: (t.is_nonzero(t.tensor([1.5])), t.is_nonzero(t.tensor(0))),
                   (True, False)),
    "is_nonzero(empty)": (lambda t: t.is_nonzero(t.tensor([])),
                          ("RuntimeError", "Boolean value of Tensor with no values is ambiguous")),
    "is_nonzero(two)": (
        lambda t: t.is_nonzero(t.tensor([1, 2])),
        ("RuntimeError", "Boolean value of Tensor with more than one value is ambiguous")),
    "is_same_size": (
        lambda t: (t.is_same_size(t.ones(2, 3), t.zeros(2, 3)),
                   t.is_same_size(t.ones(2), t.ones(3))), (True, False)),
    "is_signed": (lambda t: [t.is_signed(t.ones(1, dtype=kind)) for kind in
                             (t.uint8, t.int8, t.bool, t.float16, t.float32)],
                  [False, True, False, True, True]),
    "is_neg, resolve_neg": (lambda t: (t.is_neg(t.ones(2)), t.resolve_neg(t.ones(2)).tolist()),
                            (False, [1.0, 1.0])),
    "get_device": (lambda t: (t.get_device(t.ones(2)), t.ones(2).get_device()), (-1, -1)),
    "layout and storage kinds": (
        lambda t: (str(t.ones(2).layout), t.ones(2).is_sparse, t.ones(2).is_quantized,
                   t.ones(2).is_meta, t.ones(2).is_mkldnn, t.ones(2).name,
                   t.ones(2).is_distributed(), t.ones(2, 3).ndimension()),
        ("torch.strided", False, False, False, False, None, False, 2)),
    # scalar_tensor, fill, detach
    "scalar_tensor(3)": (lambda t: t.scalar_tensor(3), ("float32", (), False, 3.0)),
    "scalar_tensor(True)": (lambda t: t.scalar_tensor(True), ("float32", (), False, 1.0)),
    "scalar_tensor(3.7, int64)": (lambda t: t.scalar_tensor(3.7, dtype=t.int64),
                                  ("int64", (), False, 3)),
    "scalar_tensor requires_grad": (lambda t: t.scalar_tensor(0.5, requires_grad=True),
                                    ("float32", (), True, 0.5)),
    "scalar_tensor(0-d tensor)": (lambda t: t.scalar_tensor(t.tensor(2.5)),
                                  ("float32", (), False, 2.5)),
    "scalar_tensor(tensor)": (
        lambda t: t.scalar_tensor(t.tensor([2.5, 1.0])),
        ("TypeError", "scalar_tensor(): argument 's' (position 1) must be Number, not Tensor")),
    "scalar_tensor('a')": (
        lambda t: t.scalar_tensor("a"),
        ("TypeError", "scalar_tensor(): argument 's' (position 1) must be Number, not str")),
    "scalar_tensor int requires_grad": (
        lambda t: t.scalar_tensor(3, dtype=t.int64, requires_grad=True),
        ("RuntimeError", "Only Tensors of floating point and complex dtype can require "
                         "gradients")),
    "fill": (lambda t: t.fill(t.ones(2, 3), 2.5), ("float32", (2, 3), False, [[2.5] * 3] * 2)),
    "fill(int64, 2.5)": (lambda t: t.fill(t.ones(2, dtype=t.int64), 2.5),
                         ("int64", (2,), False, [2, 2])),
    "fill(0-d tensor)": (lambda t: t.fill(t.ones(2), t.tensor(3.0)),
                         ("float32", (2,), False, [3.0, 3.0])),
    "fill(1-d tensor)": (
        lambda t: t.fill(t.ones(2), t.tensor([3.0])),
        ("RuntimeError", "fill_ only supports 0-dimension value tensor but got tensor with 1 "
                         "dimensions.")),
    "fill gradient": (_fill_gradient, ("FillBackward1", 2.0)),
    "detach": (lambda t: t.detach(t.ones(2, requires_grad=True)),
               ("float32", (2,), False, [1.0, 1.0])),
    "detach_ on a view": (
        lambda t: t.ones(2, 2, requires_grad=True)[0].detach_(),
        ("RuntimeError", "Can't detach views in-place. Use detach() instead. If you are using "
                         "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view "
                         "is set as True, gradients are views of DDP buckets, and hence detach_() "
                         "cannot be called on these gradients. To fix this error, please refer to "
                         "the Optimizer.zero_grad() function in torch/optim/optimizer.py as the "
                         "solution.")),
    "detach_ on a non-leaf": (_detach_non_leaf, (False, None, True)),
    # the removed Variable API
    "volatile": (lambda t: t.ones(2).volatile,
                 (False, [("UserWarning", "volatile was removed (Variable.volatile is always "
                                          "False)")])),
    "volatile = True": (lambda t: setattr(t.ones(2), "volatile", True),
                        (None, [("UserWarning", "volatile was removed and now has no effect. Use "
                                                "`with torch.no_grad():` instead.")])),
    "Variable": (lambda t: t.autograd.Variable(t.ones(2), requires_grad=True),
                 ("float32", (2,), True, [1.0, 1.0])),
    # legacy conversions
    "short": (lambda t: t.tensor([1.7, -2.5]).short(), ("int16", (2,), False, [1, -2])),
    "char": (lambda t: t.tensor([1.7, -2.5]).char(), ("int8", (2,), False, [1, -2])),
    "byte": (lambda t: t.tensor([1.7, 2.5]).byte(), ("uint8", (2,), False, [1, 2])),
    # memory placement
    "is_pinned": (lambda t: t.ones(2).is_pinned(), False),
    "share_memory_": (_shared, (False, True, [1.0, 1.0], 0)),
    "Module.share_memory": (lambda t: t.nn.Linear(2, 2).share_memory().weight.is_shared(), True),
    # Python functions over the elements
    "apply_": (lambda t: t.tensor([1.0, 2.0]).apply_(lambda v: v * 3),
               ("float32", (2,), False, [3.0, 6.0])),
    "apply_ int64 truncates": (lambda t: t.tensor([1, 2]).apply_(lambda v: v * 1.6),
                               ("int64", (2,), False, [1, 3])),
    "apply_ bool": (lambda t: t.tensor([True, False]).apply_(lambda v: not v),
                    ("bool", (2,), False, [False, True])),
    "apply_ 0-d": (lambda t: t.tensor(2.0).apply_(lambda v: v + 1), ("float32", (), False, 3.0)),
    "apply_ keeps the version": (
        lambda t: (lambda x: (x.apply_(abs), x._version)[1])(t.ones(2)), 0),
    "apply_ -> str (float)": (lambda t: t.ones(1).apply_(lambda v: "a"),
                              ("TypeError", "must be real number, not str")),
    "apply_ -> str (int)": (lambda t: t.ones(1, dtype=t.long).apply_(lambda v: "a"),
                            ("TypeError", "'str' object cannot be interpreted as an integer")),
    "apply_ requires grad": (
        lambda t: t.tensor([1.0], requires_grad=True).apply_(lambda v: v),
        ("RuntimeError", "Can't call apply_() on Variable that requires grad. Use "
                         "var.detach().apply_() instead.")),
    "map_": (lambda t: t.tensor([1.0, 2.0]).map_(t.tensor([10.0, 20.0]), lambda a, b: a + b),
             ("float32", (2,), False, [11.0, 22.0])),
    "map_ broadcasts": (
        lambda t: t.ones(2, 2).map_(t.tensor([10.0, 20.0]), lambda a, b: a + b),
        ("float32", (2, 2), False, [[11.0, 21.0], [11.0, 21.0]])),
    "map_(number)": (lambda t: t.ones(2).map_(3, lambda a, b: a),
                     ("TypeError", "map_(): argument 'other' (position 1) must be Tensor, not "
                                   "int")),
    "map_ dtypes": (lambda t: t.ones(2).map_(t.ones(2, dtype=t.float64), lambda a, b: a),
                    ("TypeError", "map_: expected torch.FloatTensor for 'other' (got "
                                  "torch.DoubleTensor)")),
    "map_ bool dtypes": (
        lambda t: t.ones(2, dtype=t.bool).map_(t.ones(2), lambda a, b: a),
        ("TypeError", "map_: expected CPUBoolType for 'other' (got torch.FloatTensor)")),
    "map2_": (lambda t: t.ones(2).map2_(t.ones(2), t.ones(2) * 3, lambda a, b, c: a + b * c),
              ("float32", (2,), False, [4.0, 4.0])),
    "map2_ dtypes": (
        lambda t: t.ones(2).map2_(t.ones(2, dtype=t.float64), t.ones(2), lambda a, b, c: a),
        ("TypeError", "map2_: expected torch.FloatTensor for argument 'x' (got "
                      "torch.DoubleTensor)")),
}


@pytest.mark.parametrize(("label", "call", "expected"),
                         [(label, *case) for label, case in CASES.items()], ids=list(CASES))
def test_surface(label: str, call: Callable[[Any], Any], expected: Any) -> None:
    assert _outcome(autodiff, call) == expected


@pytest.mark.parametrize(("label", "call"), [(label, case[0]) for label, case in CASES.items()],
                         ids=list(CASES))
def test_surface_matches_pytorch(label: str, call: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    assert _outcome(autodiff, call) == _outcome(torch, call)


def test_reinforce_was_removed() -> None:
    with raises_starting(RuntimeError, "reinforce() was removed.\nUse torch.distributions "
                                       "instead."):
        autodiff.ones(2).reinforce(1.0)


def test_torch_level_questions_take_tensors_only(device: str) -> None:
    x = autodiff.ones(2, 3, device=device)
    assert autodiff.is_same_size(x, autodiff.zeros(2, 3, device=device))
    with raises(TypeError, "is_same_size(): argument 'other' (position 2) must be Tensor, not "
                           "tuple"):
        autodiff.is_same_size(x, (2, 3))


# ----------------------------------------------------------------------------- the accelerator
def _gpus() -> int:
    return autodiff.cuda.device_count() if backends.cuda_is_built() else 0


def test_accelerator_reports_cuda_through_cupy() -> None:
    accelerator = autodiff.accelerator
    if not backends.cuda_is_built():
        assert accelerator.current_accelerator() is None
    else:
        assert accelerator.current_accelerator() == autodiff.device("cuda")
    assert accelerator.is_available() == (_gpus() > 0)
    assert accelerator.device_count() == _gpus()
    if _gpus():
        assert accelerator.current_accelerator(check_available=True) == autodiff.device("cuda")
        assert accelerator.current_device_index() == autodiff.cuda.current_device()
        accelerator.synchronize()
        return
    assert accelerator.current_accelerator(check_available=True) is None
    for call in (accelerator.current_device_index, accelerator.synchronize,
                 accelerator.empty_cache, accelerator.memory_allocated,
                 lambda: accelerator.set_device_index(0),
                 lambda: accelerator.device_index(0).__enter__()):
        with raises(RuntimeError, _NO_ACCELERATOR[1]):
            call()
    with accelerator.device_index(None):  # None: no device is touched
        pass


def test_accelerator_deprecated_names() -> None:
    if _gpus():
        with pytest.warns(FutureWarning, match="Use `current_device_index` instead."):
            assert autodiff.accelerator.current_device_idx() == 0
        return
    with pytest.warns(FutureWarning, match="Use `current_device_index` instead."), \
            raises(RuntimeError, _NO_ACCELERATOR[1]):
        autodiff.accelerator.current_device_idx()


def test_accelerator_matches_a_cpu_build_of_pytorch() -> None:
    torch = pytest.importorskip("torch")
    if backends.cuda_is_built() or torch.cuda.is_available():
        pytest.skip("compares the answers of two builds without CUDA")
    for name in ("current_accelerator", "is_available", "device_count", "current_device_index",
                 "synchronize", "empty_cache", "memory_allocated"):
        assert _outcome(autodiff, lambda t, name=name: getattr(t.accelerator, name)()) == \
            _outcome(torch, lambda t, name=name: getattr(t.accelerator, name)()), name


def test_pin_memory() -> None:
    x = autodiff.ones(3)
    if not _gpus():
        with raises(RuntimeError, _NO_ACCELERATOR[1]):
            x.pin_memory()
        return
    pinned = x.pin_memory()
    assert pinned.is_pinned() and not x.is_pinned() and pinned.tolist() == x.tolist()
    assert pinned.pin_memory() is pinned
    with raises(RuntimeError, "cannot pin 'torch.cuda.FloatTensor' only dense CPU tensors can be "
                              "pinned"):
        x.cuda().pin_memory()


def test_backends_report_the_cpu_libraries() -> None:
    capability = autodiff.backends.cpu.get_cpu_capability()
    assert capability in ("DEFAULT", "AVX2", "AVX512", "SVE256", "VSX")
    assert isinstance(autodiff.backends.mkl.is_available(), bool)
    assert isinstance(autodiff.backends.openmp.is_available(), bool)
    assert autodiff.backends.cuda.is_built() == backends.cuda_is_built()
    assert autodiff.backends.cudnn.is_available() is False  # CuPy's ops call cuBLAS, not cuDNN
    assert autodiff.backends.cudnn.version() is None
    assert autodiff.backends.mkldnn.is_available() is False


def test_allow_tf32_is_the_float32_matmul_precision() -> None:
    matmul = autodiff.backends.cuda.matmul
    assert autodiff.get_float32_matmul_precision() == "highest"
    try:
        matmul.allow_tf32 = True
        assert autodiff.get_float32_matmul_precision() == "high"
    finally:
        matmul.allow_tf32 = False
    assert autodiff.get_float32_matmul_precision() == "highest"


# ----------------------------------------------------------------------------- shared memory
def _write_in_child(tensor: autodiff.Tensor) -> None:
    tensor.add_(41.0)


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
def test_share_memory_is_seen_by_forked_processes() -> None:
    shared = autodiff.ones(3).share_memory_()
    private = autodiff.ones(3)
    context = multiprocessing.get_context("fork")
    for tensor in (shared, private):
        process = context.Process(target=_write_in_child, args=(tensor,))
        process.start()
        process.join(timeout=60)
        assert process.exitcode == 0
    assert shared.tolist() == [42.0, 42.0, 42.0]
    assert private.tolist() == [1.0, 1.0, 1.0]


def test_share_memory_keeps_values_and_autograd(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    if autodiff.device(device).type == "strict":
        with raises(RuntimeError, "share_memory_(): strict:1 tensors cannot be placed in shared "
                                  "memory"):
            x.share_memory_()
        return
    assert x.share_memory_() is x and x.is_shared()
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
