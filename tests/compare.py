"""Side-by-side runs of autodiff and PyTorch for the tests that compare against PyTorch.

The same float64 NumPy inputs go to both libraries; `compare` checks the values, the gradients
of every input that requires grad (for the same random upstream gradient), the grad_fn name,
and optionally the second derivatives (a Hessian-vector product through create_graph=True).
`same_error` checks that both raise the same kind of exception with the same message. Nothing
here imports torch: the test modules pass it in after `pytest.importorskip("torch")`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autodiff


def to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, autodiff.Tensor):
        return value.detach().numpy()
    return value.detach().numpy(force=True) if hasattr(value, "detach") else np.asarray(value)


def compare(torch: Any, ours: Callable[..., Any], theirs: Callable[..., Any],
            inputs: Sequence[np.ndarray], grad: Sequence[bool] | None = None,
            second_order: bool = False, atol: float = 1e-9, rtol: float = 1e-7,
            check_name: bool = True, seed: int = 0) -> None:
    """Assert autodiff's `ours(*tensors)` matches PyTorch's `theirs(*tensors)`."""
    grad = [np.asarray(x).dtype.kind == "f" for x in inputs] if grad is None else list(grad)
    ours_in = [autodiff.tensor(x, requires_grad=g) for x, g in zip(inputs, grad)]
    theirs_in = [torch.tensor(x, requires_grad=g) for x, g in zip(inputs, grad)]
    out, expected = ours(*ours_in), theirs(*theirs_in)
    np.testing.assert_allclose(to_numpy(out), to_numpy(expected), atol=atol, rtol=rtol,
                               equal_nan=True, err_msg="values differ")
    assert tuple(out.shape) == tuple(expected.shape)
    assert out.dtype.name == str(expected.dtype).removeprefix("torch.")
    if not any(grad):
        return
    if check_name:
        assert out.grad_fn is not None and out.grad_fn.name() == expected.grad_fn.name()
    rng = np.random.default_rng(seed)
    upstream = rng.standard_normal(tuple(expected.shape))
    directions = [rng.standard_normal(np.shape(x)) for x in inputs]
    with warnings.catch_warnings():  # PyTorch warns about create_graph with .backward()
        warnings.simplefilter("ignore", UserWarning)
        for library, result in ((autodiff, out), (torch, expected)):
            result.backward(library.tensor(upstream), create_graph=second_order)
    for index, (mine, reference) in enumerate(zip(ours_in, theirs_in)):
        if grad[index]:
            np.testing.assert_allclose(_grad(mine), _grad(reference), atol=atol * 10,
                                       rtol=rtol * 10, err_msg=f"gradient {index} differs")
    if second_order:
        _compare_second_order(torch, ours_in, theirs_in, grad, directions, atol, rtol)


def _grad(tensor: Any) -> np.ndarray:
    if tensor.grad is None:
        return np.zeros(tuple(tensor.shape))
    return to_numpy(tensor.grad)


def _compare_second_order(torch: Any, ours_in: list[Any], theirs_in: list[Any],
                          grad: list[bool], directions: list[np.ndarray], atol: float,
                          rtol: float) -> None:
    """d/dx <grad_x, direction> for each side: a Hessian-vector product per input."""
    results = []
    for library, tensors in ((autodiff, ours_in), (torch, theirs_in)):
        firsts = [t.grad for t in tensors]
        for tensor in tensors:
            tensor.grad = None
        total = None
        for first, direction, needed in zip(firsts, directions, grad):
            if needed and first is not None and first.requires_grad:
                term = (first * library.tensor(direction)).sum()
                total = term if total is None else total + term
        if total is not None:
            total.backward()
        results.append([_grad(t) if g else None for t, g in zip(tensors, grad)])
    for index, (mine, reference) in enumerate(zip(*results)):
        if mine is not None:
            np.testing.assert_allclose(mine, reference, atol=atol * 100, rtol=rtol * 100,
                                       err_msg=f"second derivative {index} differs")


def same_error(ours: Callable[[], Any], theirs: Callable[[], Any]) -> str:
    """Both raise; the same builtin kind of exception and the same message. Returns it."""
    try:
        theirs()
    except Exception as error:  # whatever PyTorch raises is the reference
        expected = error
    else:
        raise AssertionError("PyTorch did not raise")
    try:
        ours()
    except Exception as error:
        got = error
    else:
        raise AssertionError(f"autodiff did not raise; PyTorch raised {expected!r}")
    kinds = (IndexError, ValueError, TypeError, NotImplementedError, AssertionError,
             RuntimeError)
    expected_kind = next(kind for kind in kinds if isinstance(expected, kind))
    assert isinstance(got, expected_kind), f"{got!r} is not a {expected_kind.__name__}"
    assert str(got) == str(expected), f"\n ours:   {got}\n theirs: {expected}"
    return str(got)


def _flat(result: Any) -> tuple[Any, ...]:
    if isinstance(result, (tuple, list)):
        return tuple(item for part in result for item in _flat(part))
    return (result,)


def compare_outputs(torch: Any, ours: Callable[..., Any], theirs: Callable[..., Any],
                    inputs: Sequence[np.ndarray], device: str = "cpu", atol: float = 1e-9,
                    rtol: float = 1e-7, check_names: bool = True, backward: bool = True,
                    seed: int = 0) -> None:
    """`compare` for ops with several outputs (tuples, named tuples, tuples of tuples: sort's
    values and indices, histogramdd's edges) on any device: each output's values, dtype and
    shape, the grad_fn name of each output PyTorch records, and (with `backward`) the
    gradient of every floating input through a random weighting of all differentiable outputs
    at once."""
    grad = [np.asarray(x).dtype.kind == "f" for x in inputs]
    ours_in = [autodiff.tensor(x, device=device, requires_grad=g) for x, g in zip(inputs, grad)]
    theirs_in = [torch.tensor(x, requires_grad=g) for x, g in zip(inputs, grad)]
    out, expected = ours(*ours_in), theirs(*theirs_in)
    outs, expecteds = _flat(out), _flat(expected)
    assert len(outs) == len(expecteds), f"{len(outs)} outputs, PyTorch gives {len(expecteds)}"
    rng = np.random.default_rng(seed)
    ours_loss = theirs_loss = None
    for index, (mine, reference) in enumerate(zip(outs, expecteds)):
        assert tuple(mine.shape) == tuple(reference.shape), f"output {index}: shape"
        assert mine.dtype.name == str(reference.dtype).removeprefix("torch."), \
            f"output {index}: {mine.dtype} is not {reference.dtype}"
        np.testing.assert_allclose(to_numpy(mine.cpu()), to_numpy(reference), atol=atol,
                                   rtol=rtol, equal_nan=True,
                                   err_msg=f"output {index}: values differ")
        if reference.grad_fn is None:
            continue
        assert mine.grad_fn is not None, f"output {index}: no grad_fn"
        if check_names:
            assert mine.grad_fn.name() == reference.grad_fn.name(), f"output {index}: node"
        weight = rng.standard_normal(tuple(reference.shape))
        ours_term = (mine * autodiff.tensor(weight, device=device)).sum()
        theirs_term = (reference * torch.tensor(weight)).sum()
        ours_loss = ours_term if ours_loss is None else ours_loss + ours_term
        theirs_loss = theirs_term if theirs_loss is None else theirs_loss + theirs_term
    if ours_loss is None or theirs_loss is None or not backward:
        return
    ours_loss.backward()
    theirs_loss.backward()
    for index, (mine, reference) in enumerate(zip(ours_in, theirs_in)):
        if grad[index]:
            got = (np.zeros(tuple(mine.shape)) if mine.grad is None
                   else to_numpy(mine.grad.cpu()))
            np.testing.assert_allclose(got, _grad(reference), atol=atol * 10, rtol=rtol * 10,
                                       err_msg=f"gradient {index} differs")
