"""Every op-table entry on the meta device, against PyTorch on its meta device where installed:
the output's shape, dtype and strides (strides over the dims longer than 1, as PyTorch's
size-1 strides are arbitrary), or PyTorch's exception type; and backward on meta (the inputs'
gradients are meta tensors of their shapes and dtypes). An entry is run under PyTorch by
rebinding the op-table module's names (autodiff -> torch, its F, LA, S, FFT); an entry that
PyTorch cannot run on the CPU that way (autodiff-only helpers) is checked against autodiff's own
CPU result instead."""

from __future__ import annotations

import types
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.op_db import OP_DB, OpInfo, Sample

_NAMESPACES = ("", ".nn.functional", ".linalg", ".special", ".fft", ".nn", ".Tensor")


def _torch() -> Any:
    return pytest.importorskip("torch")


def _namespace(library: Any, path: str) -> Any:
    for part in path.split(".")[1:]:
        library = getattr(library, part)
    return library


def _translated(value: Any, torch: Any, memo: dict[int, Any]) -> Any:
    """`value` with autodiff's modules, functions and classes replaced by PyTorch's."""
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, types.ModuleType) and value.__name__.startswith("autodiff"):
        try:
            return _namespace(torch, value.__name__[len("autodiff"):])
        except AttributeError:
            return value
    if isinstance(value, types.FunctionType) and value.__module__.startswith("tests.op_db"):
        namespace = _module_namespace(value.__globals__, torch, memo)
        closure = None if value.__closure__ is None else tuple(
            types.CellType(_translated(cell.cell_contents, torch, memo))
            for cell in value.__closure__)
        copy = types.FunctionType(value.__code__, namespace, value.__name__,
                                  value.__defaults__, closure)
        memo[id(value)] = copy
        return copy
    if callable(value) and getattr(value, "__module__", "").startswith("autodiff"):
        name = getattr(value, "__name__", None)
        for path in _NAMESPACES:
            ours = getattr(_namespace(autodiff, "x" + path), name or "", None)
            if name and ours is value:
                return getattr(_namespace(torch, "x" + path), name, value)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_translated(item, torch, memo) for item in value)
    return value


def _module_namespace(namespace: dict[str, Any], torch: Any, memo: dict[int, Any]
                      ) -> dict[str, Any]:
    key = id(namespace)
    if key not in memo:
        translated: dict[str, Any] = dict(namespace)
        memo[key] = translated
        for name, value in namespace.items():
            if not name.startswith("__"):
                translated[name] = _translated(value, torch, memo)
    return memo[key]


def _outcome(call: Any) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call()
    except Exception as error:
        return ("raises", type(error).__name__)
    if isinstance(out, (tuple, list)):
        out = out[0]
    if getattr(out, "is_sparse", False) or getattr(out, "is_nested", False):
        return ("sparse", tuple(out.shape), str(out.dtype), out.device.type)
    strides = tuple(stride for size, stride in zip(out.shape, out.stride()) if size > 1) \
        if out.numel() else None
    return (tuple(out.shape), str(out.dtype), strides, out.device.type)


def _run(library: Any, op: Any, sample: Sample, device: str, seed: int = 0) -> Any:
    if device == "meta":
        inputs = [library.empty(shape, dtype=library.float32, device="meta")
                  for shape in sample.shapes]
    else:
        rng = np.random.default_rng(seed)
        inputs = [library.tensor(rng.uniform(-1.0, 1.0, size=shape), dtype=library.float32)
                  for shape in sample.shapes]
    return _outcome(lambda: op(*inputs))


_LAPACK_ORDER = ("autodiff's meta results of LAPACK (and of ops on them) keep the host "
                 "routine's memory order, which is not always PyTorch's")
_VALUES = ("PyTorch's meta kernel raises for this op (it reads values); autodiff's computes "
           "the shape without them")
_EINSUM = ("PyTorch's einsum gives views (diagonals, permutations) where it can; autodiff's "
           "meta einsum gives a new contiguous array")
# Where autodiff's meta result is not PyTorch's, by test id, each with its reason (strict xfails).
KNOWN: dict[str, str] = {
    **dict.fromkeys(("rrelu-0", "rrelu-1"), "PyTorch's rrelu draws its slopes with uniform_ "
                    "on meta and raises; autodiff's meta random fills draw nothing"),
    **dict.fromkeys(("rot90-0", "rot90-1", "rot90_k-0"), "autodiff's rot90 copies the flipped "
                    "dims on meta (PyTorch returns a transposed view of a flip)"),
    "setitem_mask-0": "x[mask] = v finds the masked positions with nonzero (PyTorch's "
                      "index_put_ with a boolean mask runs on meta)",
    "fill[tensor]-0": "fill_ with a tensor value gives the value broadcast (zero strides) on "
                      "meta; PyTorch's fill_ keeps the tensor's own strides",
    **dict.fromkeys(("torch.embedding_bag_2-0",), "embedding_bag's other results "
                    "(offset2bag, bag_size) read the offsets"),
    **dict.fromkeys((
        "linalg.solve_triangular-0", "linalg.solve_triangular-2",
        "linalg.solve_triangular_upper-0", "linalg.solve_triangular_upper-1",
        "cholesky_solve-0", "cholesky_solve-2", "cholesky_solve_upper-0",
        "cholesky_solve_upper-1", "linalg.lu-0", "linalg.lu_L-0", "linalg.lu_U-0",
        "lu_unpack-0", "lu_unpack_wide-0"), _LAPACK_ORDER),
    **dict.fromkeys(("geqrf-0", "geqrf-1", "linalg.lstsq-0", "linalg.lstsq-1",
                     "linalg.lstsq_gelsd-0", "sparse_coo_tensor-0",
                     "sparse_coalesce_values-0"), _VALUES),
    **dict.fromkeys(("fft.rfftn-0", "fft.rfftn-2", "stft-0", "stft-1", "fft.rfft2-0"),
                    "PyTorch's real FFTs keep the transformed dims' order in memory; "
                    "autodiff's meta results are C order"),
    **dict.fromkeys(("einsum[ii->i]-0", "einsum[iii->i]-0", "einsum[ij->ji]-0",
                     "einsum[i...j->j...i]-0", "einsum[ba,Ac]-0"), _EINSUM),
}


def _case(info: OpInfo, index: int, sample: Sample) -> Any:
    case_id = f"{info.name}-{index}"
    marks = ()
    if case_id in KNOWN:
        marks = (pytest.mark.xfail(reason=KNOWN[case_id], strict=True),)
    return pytest.param(info, sample, id=case_id, marks=marks)


CASES = [_case(info, index, sample)
         for info in OP_DB for index, sample in enumerate(info.samples)]


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_meta_matches_pytorch(info: OpInfo, sample: Sample) -> None:
    torch = _torch()
    ours_cpu = _run(autodiff, info.op, sample, "cpu")
    if ours_cpu[0] == "raises":
        pytest.skip("the sample fails on the CPU in float32")
    ours = _run(autodiff, info.op, sample, "meta")
    op = _translated(info.op, torch, {})
    theirs_cpu = _run(torch, op, sample, "cpu")
    if theirs_cpu[0] == "raises" or theirs_cpu[:2] != ours_cpu[:2]:
        # PyTorch cannot run the entry as written (an autodiff-only helper): the CPU's shape
        # and dtype are the reference, and meta may refuse only as PyTorch's meta refuses.
        assert ours[0] == "raises" or ours[:2] == ours_cpu[:2], (ours, ours_cpu)
        return
    theirs = _run(torch, op, sample, "meta")
    if theirs[0] == "raises":
        assert ours == theirs
        return
    assert ours[:2] == theirs[:2] and ours[3] == "meta", (ours, theirs)
    if theirs_cpu[2] != ours_cpu[2]:
        # autodiff's CPU lays this result out otherwise than PyTorch's CPU (LAPACK's
        # column-major results, copies where PyTorch makes views): meta follows the CPU
        assert ours[2] in (theirs[2], ours_cpu[2]), ("strides", ours, theirs, ours_cpu)
    else:
        assert ours[2] == theirs[2], ("strides", ours, theirs)


@pytest.mark.parametrize("info", [info for info in OP_DB if info.differentiable],
                         ids=lambda info: info.name)
def test_meta_backward(info: OpInfo) -> None:
    sample = info.samples[0]
    count = info.grad_inputs if info.grad_inputs is not None else len(sample.shapes)
    inputs = [autodiff.empty(shape, dtype=autodiff.float64, device="meta",
                             requires_grad=index < count)
              for index, shape in enumerate(sample.shapes)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = info.op(*inputs)
    except (RuntimeError, NotImplementedError) as error:
        pytest.skip(f"the forward refuses on meta: {error}")
    if not out.requires_grad:
        pytest.skip("no input needs grad")
    out.backward(autodiff.empty_like(out))
    for tensor in inputs[:count]:
        assert tensor.grad is None or (tensor.grad.is_meta and tensor.grad.shape == tensor.shape
                                       and tensor.grad.dtype == tensor.dtype)
