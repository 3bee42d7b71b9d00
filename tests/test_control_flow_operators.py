"""torch.cond and torch._higher_order_ops' scan, associative_scan and map, eager: values,
gradients and node names against PyTorch where it is installed, PyTorch's argument checks and
messages, and the checks of what the functions return."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff._higher_order_ops import associative_scan, cond, map, scan, while_loop

DATA = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-2.0, 1.0, 0.3], [0.7, -0.2, 1.1]]


def _hop(library: Any) -> Any:
    if library is autodiff:
        return autodiff._higher_order_ops
    import torch._higher_order_ops

    return torch._higher_order_ops


def _leaf(library: Any, data: Any, device: str = "cpu") -> Any:
    kwargs = {"device": device} if library is autodiff else {}
    return library.tensor(data, dtype=library.float64, requires_grad=True, **kwargs)


def _names(tensors: Any) -> list[Any]:
    return [None if t.grad_fn is None else t.grad_fn.name() for t in tensors]


def _run_both(program: Any, device: str) -> list[Any]:
    """The program's results (nested lists of floats and names) under autodiff on `device` and
    under PyTorch; PyTorch skipped where it is absent."""
    torch = pytest.importorskip("torch")
    return [program(autodiff, device), program(torch, "cpu")]


def _assert_same(ours: Any, theirs: Any) -> None:
    assert type(ours) is type(theirs) or (isinstance(ours, float) and isinstance(theirs, float))
    if isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs)
        for mine, other in zip(ours, theirs):
            _assert_same(mine, other)
    elif isinstance(ours, float):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    else:
        assert ours == theirs


# ------------------------------------------------------------------------------------- cond


def _cond_program(taken: bool, output: str) -> Any:
    def program(library: Any, device: str) -> Any:
        x = _leaf(library, DATA[0], device)
        w = _leaf(library, 2.0, device)  # closed over: PyTorch lifts it into the operands

        def true_fn(x: Any) -> Any:
            return _shape(output, x.cos() * w, x + 1)

        def false_fn(x: Any) -> Any:
            return _shape(output, x.sin() * w, x * w)

        pred = library.tensor(taken, device=device) if library is autodiff else \
            library.tensor(taken)
        out = _hop(library).cond(pred, true_fn, false_fn, (x,))
        leaves = [out] if output == "tensor" else list(out.values()) if output == "dict" \
            else list(out)
        total = sum((leaf * leaf).sum() for leaf in leaves)
        grads = library.autograd.grad(total, (x, w))
        return [type(out).__name__, _names(leaves), [leaf.tolist() for leaf in leaves],
                [grad.tolist() for grad in grads]]
    return program


def _shape(output: str, first: Any, second: Any) -> Any:
    if output == "tensor":
        return first
    if output == "dict":
        return {"a": first, "b": second}
    return (first, second) if output == "tuple" else [first, second]


@pytest.mark.parametrize("output", ["tensor", "tuple", "list", "dict"])
@pytest.mark.parametrize("taken", [True, False])
def test_cond_values_gradients_and_node_match_pytorch(device: str, taken: bool,
                                                      output: str) -> None:
    ours, theirs = _run_both(_cond_program(taken, output), device)
    _assert_same(ours, theirs)
    assert set(ours[1]) == {"CondAutogradOpBackward"}


def test_cond_with_a_python_bool_just_calls_the_branch() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    out = cond(True, lambda x: x.cos(), lambda x: x.sin(), (x,))
    assert out.grad_fn.name() == "CosBackward0"  # as PyTorch: no operator node
    assert cond(0, lambda: 1, lambda: 2) == 2
    # torch.cond is the same function (autodiff's public functions may wrap it)
    assert autodiff.cond(False, lambda: 1, lambda: 2) == 2


def test_cond_one_element_predicates_of_any_dtype(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0], device=device)
    for pred, expected in [(autodiff.tensor([True], device=device), "cos"),
                           (autodiff.tensor(0.0, device=device), "sin"),
                           (autodiff.tensor([[2]], device=device), "cos")]:
        out = cond(pred, lambda x: x.cos(), lambda x: x.sin(), (x,))
        assert out.tolist() == getattr(x, expected)().tolist()


def test_cond_runs_the_other_branch_without_recording_or_drawing() -> None:
    calls = []

    def false_fn(x: Any) -> Any:
        calls.append(autodiff.is_grad_enabled())
        return x + autodiff.rand(2)

    autodiff.manual_seed(0)
    x = autodiff.ones(2, requires_grad=True)
    out = cond(autodiff.tensor(True), lambda x: x * 2, false_fn, (x,))
    after = autodiff.rand(1).item()
    autodiff.manual_seed(0)
    assert calls == [False] and after == autodiff.rand(1).item()
    assert out.grad_fn.next_functions[0][0].name() == "MulBackward0"


def test_cond_gradients_to_second_order_and_a_second_backward() -> None:
    x = autodiff.tensor([0.5, -1.0, 2.0], dtype=autodiff.float64, requires_grad=True)

    def function(x: Any) -> Any:
        return cond(x.sum() > 0, lambda x: x * x.sin(), lambda x: x.exp(), (x,))

    assert autodiff.autograd.gradcheck(function, (x,))
    assert autodiff.autograd.gradgradcheck(function, (x,))
    y = function(x)
    (first,) = autodiff.autograd.grad(y.sum(), x)
    # PyTorch's node recomputes in backward, so this works without retain_graph there too
    (second,) = autodiff.autograd.grad(y.sum(), x)
    assert first.tolist() == second.tolist()


COND_ERRORS = [
    ("pred_type", lambda L, x: L.cond("a", lambda x: x.sin(), lambda x: x.cos(), (x,)),
     "Expected pred to be bool or tensor, but got a."),
    ("pred_numel", lambda L, x: L.cond(L.tensor([True, False]), lambda x: x.sin(),
                                        lambda x: x.cos(), (x,)),
     "Expected pred to be bool or single-element tensor, but got tensor([ True, False])."),
    ("not_callable", lambda L, x: L.cond(x.sum() > 0, 1, lambda x: x.cos(), (x,)),
     "Expect both branches to be callable."),
    ("operand_int", lambda L, x: L.cond(x.sum() > 0, lambda x, n: x.sin(),
                                         lambda x, n: x.cos(), (x, 1)),
     "Expect operands to be a tuple of possibly nested dict/list/tuple that only consists of "
     "tensor leaves, but got (tensor([1., 2.]), 1)."),
    ("operands_tensor", lambda L, x: L.cond(x.sum() > 0, lambda x: x.sin(),
                                             lambda x: x.cos(), x),
     "Expect operands to be a tuple of possibly nested dict/list/tuple that only consists of "
     "tensor leaves, but got tensor([1., 2.])."),
    ("dtype", lambda L, x: L.cond(x.sum() > 0, lambda x: x.sin(), lambda x: x.double(), (x,)),
     "When merging two branches' output in torch.cond,  expected same dtype but got "
     "torch.float32 and torch.float64."),
    ("structure", lambda L, x: L.cond(x.sum() > 0, lambda x: (x.sin(), x.cos()),
                                      lambda x: (x.cos(),), (x,)),
     "torch.cond: differing branch outputs\n  Higher Order Operator: torch.cond\n"
     "  Explanation: Expected branches to return the same pytree structure."),
    ("none", lambda L, x: L.cond(x.sum() > 0, lambda x: None, lambda x: None, (x,)),
     "torch.cond: unsupported branch return type (constant non-int)\n"
     "  Higher Order Operator: torch.cond\n"
     "  Explanation: Constants returned from branches must be ints."),
]


@pytest.mark.parametrize(("call", "message"), [case[1:] for case in COND_ERRORS],
                         ids=[case[0] for case in COND_ERRORS])
def test_cond_errors(call: Any, message: str) -> None:
    with pytest.raises(RuntimeError) as error:
        call(autodiff, autodiff.tensor([1.0, 2.0]))
    assert str(error.value) == message


@pytest.mark.parametrize(("call", "message"), [case[1:] for case in COND_ERRORS],
                         ids=[case[0] for case in COND_ERRORS])
def test_cond_errors_as_pytorch(call: Any, message: str) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as error:
        call(torch, torch.tensor([1.0, 2.0]))
    # (PyTorch's tracing wraps some in its own report, around these words)
    assert message in str(error.value)


def test_cond_branches_may_return_different_sizes() -> None:
    x = autodiff.tensor([1.0, 2.0])
    out = cond(x.sum() > 0, lambda x: x.sin(), lambda x: autodiff.cat([x, x]), (x,))
    assert out.shape == (2,)


# ------------------------------------------------------------------------------------- scan


def _scan_program(dim: int, reverse: bool) -> Any:
    def program(library: Any, device: str) -> Any:
        xs = _leaf(library, DATA, device)
        h = _leaf(library, [0.1, 0.2, 0.3] if dim == 0 else [0.1, 0.2, 0.3, 0.4], device)
        w = _leaf(library, 0.9, device)

        def combine(carry: Any, x: Any) -> Any:
            h, c = carry
            new_h = (h * w + x["x"]).tanh()
            return (new_h, c + new_h), {"y": new_h * 2, "z": (x["x"].sin(),)}

        (h, c), ys = _hop(library).scan(combine, (h, h * 0), {"x": xs}, dim=dim,
                                        reverse=reverse)
        outputs = [h, c, ys["y"], ys["z"][0]]
        total = sum((out * out).sum() for out in outputs)
        grads = library.autograd.grad(total, (xs, w))
        return [_names(outputs), [out.tolist() for out in outputs],
                [grad.tolist() for grad in grads]]
    return program


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scan_values_gradients_and_node_match_pytorch(device: str, dim: int,
                                                      reverse: bool) -> None:
    ours, theirs = _run_both(_scan_program(dim, reverse), device)
    _assert_same(ours, theirs)
    # the carries' node; PyTorch flips and moves the ys back into place after it
    assert ours[0][:2] == ["ScanAutogradOpBackward"] * 2


def test_scan_gradients_to_second_order_and_a_second_backward() -> None:
    xs = autodiff.tensor(DATA, dtype=autodiff.float64, requires_grad=True)
    init = autodiff.tensor([0.1, 0.2, 0.3], dtype=autodiff.float64, requires_grad=True)

    def function(init: Any, xs: Any) -> Any:
        carry, ys = scan(lambda c, x: (c * x.cos() + x, (c * x).clone()), init, xs)
        return carry, ys

    assert autodiff.autograd.gradcheck(function, (init, xs))
    assert autodiff.autograd.gradgradcheck(function, (init, xs))
    _, ys = function(init, xs)
    first = autodiff.autograd.grad(ys.sum(), (init, xs))
    second = autodiff.autograd.grad(ys.sum(), (init, xs))
    assert [g.tolist() for g in first] == [g.tolist() for g in second]


def test_scan_without_xs_returns_init() -> None:
    init = autodiff.zeros(2)
    carry, ys = scan(lambda c, x: (c, x), init, [])
    assert carry is init and ys == []


SCAN_ERRORS = [
    ("not_callable", lambda L, i, x: _hop(L).scan(1, i, x), RuntimeError,
     "Combine_fn must be a callable, but got 1"),
    ("reverse", lambda L, i, x: _hop(L).scan(lambda c, x: (c + x, x.clone()), i, x, reverse=1),
     RuntimeError, "Reverse must be a bool, but got <class 'int'>"),
    ("init_leaf", lambda L, i, x: _hop(L).scan(lambda c, x: (c + x, x.clone()), 1, x),
     RuntimeError, "All init leaves must be a Tensor but got 1"),
    ("no_init", lambda L, i, x: _hop(L).scan(lambda c, x: (c, x.clone()), (), x),
     RuntimeError, "scan() operator requires init leaves."),
    ("dim", lambda L, i, x: _hop(L).scan(lambda c, x: (c + x, x.clone()), i, x, dim=2),
     IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("empty", lambda L, i, x: _hop(L).scan(lambda c, x: (c + x, x.clone()), i, x[:0]),
     RuntimeError, "All xs leaves must at least have 'dim' number of dimensions and scan "
                   "dimension > 0"),
    ("carry_shape", lambda L, i, x: _hop(L).scan(lambda c, x: (L.cat([c, x]), x.clone()),
                                                  i, x),
     RuntimeError, "Expected init and carry to have same metadata but found:\n"
                   "pair[0] differ in 'shape: torch.Size([2]) vs torch.Size([4])', where lhs "
                   "is FakeTensor(..., size=(2,)) and rhs is FakeTensor(..., size=(4,))"),
    ("carry_dtype", lambda L, i, x: _hop(L).scan(lambda c, x: ((c + x).double(), x.clone()),
                                                  i, x),
     RuntimeError, "Expected init and carry to have same metadata but found:\n"
                   "pair[0] differ in 'dtype: torch.float32 vs torch.float64', where lhs is "
                   "FakeTensor(..., size=(2,)) and rhs is "
                   "FakeTensor(..., size=(2,), dtype=torch.float64)"),
]


@pytest.mark.parametrize(("call", "kind", "message"), [case[1:] for case in SCAN_ERRORS],
                         ids=[case[0] for case in SCAN_ERRORS])
def test_scan_errors(call: Any, kind: type, message: str) -> None:
    with pytest.raises(kind) as error:
        call(autodiff, autodiff.zeros(2), autodiff.ones(4, 2))
    assert str(error.value) == message


@pytest.mark.parametrize(("call", "kind", "message"), [case[1:] for case in SCAN_ERRORS],
                         ids=[case[0] for case in SCAN_ERRORS])
def test_scan_errors_as_pytorch(call: Any, kind: type, message: str) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(kind) as error:
        call(torch, torch.zeros(2), torch.ones(4, 2))
    # (PyTorch's tracing adds where it traced, and writes sizes it made symbolic as s0, s1...)
    prefix = message.split("differ in" if "shape" in message else "', where")[0]
    assert str(error.value).startswith(prefix)


# ------------------------------------------------------------------------- associative_scan


def _associative_program(dim: int, reverse: bool) -> Any:
    def program(library: Any, device: str) -> Any:
        a = _leaf(library, DATA, device)
        b = _leaf(library, [[v * 0.5 for v in row] for row in DATA], device)

        def combine(left: Any, right: Any) -> Any:
            # the composition of affine maps x -> a x + b: associative
            return {"a": left["a"] * right["a"], "b": right["a"] * left["b"] + right["b"]}

        out = _hop(library).associative_scan(combine, {"a": a, "b": b}, dim, reverse=reverse,
                                             combine_mode="generic")
        outputs = [out["a"], out["b"]]
        total = sum((o * o).sum() for o in outputs)
        grads = library.autograd.grad(total, (a, b))
        return [_names(outputs), [o.tolist() for o in outputs], [g.tolist() for g in grads]]
    return program


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -2])
def test_associative_scan_values_gradients_and_node_match_pytorch(device: str, dim: int,
                                                                  reverse: bool) -> None:
    ours, theirs = _run_both(_associative_program(dim, reverse), device)
    _assert_same(ours, theirs)


def test_associative_scan_cumulative_sum(device: str) -> None:
    xs = autodiff.arange(1, 6, device=device)
    out = associative_scan(lambda a, b: a + b, xs, 0, combine_mode="generic")
    assert out.tolist() == [1, 3, 6, 10, 15]
    out = associative_scan(lambda a, b: a + b, xs, 0, reverse=True, combine_mode="generic")
    assert out.tolist() == [15, 14, 12, 9, 5]


ASSOCIATIVE_ERRORS = [
    ("not_callable", lambda L, x: _hop(L).associative_scan(1, x, 0, combine_mode="generic"),
     ValueError, "Combine_fn must be a callable, but got 1"),
    ("pointwise_on_cpu", lambda L, x: _hop(L).associative_scan(lambda a, b: a + b, x, 0),
     ValueError, "For combine_mode='pointwise', all input tensors need to be on CUDA or XPU"),
    ("mode", lambda L, x: _hop(L).associative_scan(lambda a, b: a + b, x, 0,
                                                   combine_mode="x"),
     ValueError, "Combine_mode must either 'pointwise' or 'generic', but got x"),
    ("dim", lambda L, x: _hop(L).associative_scan(lambda a, b: a + b, x, 2,
                                                  combine_mode="generic"),
     IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("empty", lambda L, x: _hop(L).associative_scan(lambda a, b: a + b, x[:0], 0,
                                                    combine_mode="generic"),
     ValueError, "All xs leaves must at least have 'dim' number of dimensions and scan "
                 "dimension > 0"),
    ("reverse", lambda L, x: _hop(L).associative_scan(lambda a, b: a + b, x, 0, reverse=1,
                                                      combine_mode="generic"),
     RuntimeError, "Reverse must be a bool, but got <class 'int'>"),
]


@pytest.mark.parametrize(("call", "kind", "message"),
                         [case[1:] for case in ASSOCIATIVE_ERRORS],
                         ids=[case[0] for case in ASSOCIATIVE_ERRORS])
def test_associative_scan_errors(call: Any, kind: type, message: str) -> None:
    with pytest.raises(kind) as error:
        call(autodiff, autodiff.ones(4, 2))
    assert str(error.value) == message


@pytest.mark.parametrize(("call", "kind", "message"),
                         [case[1:] for case in ASSOCIATIVE_ERRORS],
                         ids=[case[0] for case in ASSOCIATIVE_ERRORS])
def test_associative_scan_errors_as_pytorch(call: Any, kind: type, message: str) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(kind) as error:
        call(torch, torch.ones(4, 2))
    assert str(error.value) == message


# -------------------------------------------------------------------------------------- map


def _map_program(library: Any, device: str) -> Any:
    xs = _leaf(library, DATA, device)
    ys = _leaf(library, [[v - 1 for v in row] for row in DATA], device)
    w = _leaf(library, [0.5, -0.25, 2.0], device)

    def body(pair: Any, scale: Any) -> Any:
        x, y = pair
        return (x * y * scale).sin(), {"w": (x * w).sum()}

    out = _hop(library).map(body, (xs, ys), w * 2)
    outputs = [out[0], out[1]["w"]]
    total = sum((o * o).sum() for o in outputs)
    grads = library.autograd.grad(total, (xs, ys, w))
    return [type(out).__name__, _names(outputs), [o.tolist() for o in outputs],
            [g.tolist() for g in grads]]


def test_map_values_gradients_and_node_match_pytorch(device: str) -> None:
    ours, theirs = _run_both(_map_program, device)
    _assert_same(ours, theirs)
    assert set(ours[1]) == {"MapAutogradOpBackward"}


def test_map_gradients_to_second_order() -> None:
    xs = autodiff.tensor(DATA, dtype=autodiff.float64, requires_grad=True)
    y = autodiff.tensor(0.7, dtype=autodiff.float64, requires_grad=True)

    def function(xs: Any, y: Any) -> Any:
        return map(lambda x, y: x.sin() * y, xs, y)

    assert autodiff.autograd.gradcheck(function, (xs, y))
    assert autodiff.autograd.gradgradcheck(function, (xs, y))


MAP_ERRORS = [
    ("leaf", lambda L, x: _hop(L).map(lambda x: x[0], [x, 1]),
     "Mapped xs can only consist of tensors. Got xs [tensor([[1., 1.],\n        [1., 1.],\n"
     "        [1., 1.],\n        [1., 1.]]), 1]."),
    ("leading", lambda L, x: _hop(L).map(lambda x: x[0] + x[1][0], [x, x[:3]]),
     "Leading dimensions of mapped xs must be consistent. Got shapes "
     "[torch.Size([4, 2]), torch.Size([3, 2])]."),
    ("zero", lambda L, x: _hop(L).map(lambda x: x, x[:0]),
     "Leading dimensions of mapped xs cannot be 0."),
]


@pytest.mark.parametrize(("call", "message"), [case[1:] for case in MAP_ERRORS],
                         ids=[case[0] for case in MAP_ERRORS])
def test_map_errors(call: Any, message: str) -> None:
    with pytest.raises(RuntimeError) as error:
        call(autodiff, autodiff.ones(4, 2))
    assert str(error.value) == message


@pytest.mark.parametrize(("call", "message"), [case[1:] for case in MAP_ERRORS],
                         ids=[case[0] for case in MAP_ERRORS])
def test_map_errors_as_pytorch(call: Any, message: str) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as error:
        call(torch, torch.ones(4, 2))
    assert str(error.value) == message


def test_the_modules_user_code_imports_from() -> None:
    from autodiff._higher_order_ops.associative_scan import associative_scan as direct_scan
    from autodiff._higher_order_ops.map import map as direct_map
    from autodiff._higher_order_ops.while_loop import while_loop as direct_loop

    assert direct_scan is associative_scan and direct_map is map
    assert direct_loop is while_loop is autodiff.control_flow.while_loop
    assert autodiff._higher_order_ops.cond is autodiff.control_flow.cond
    assert (autodiff.pi, autodiff.e, autodiff.inf) == (np.pi, np.e, np.inf)
    assert np.isnan(autodiff.nan)


def test_functorch_experimental_control_flow() -> None:
    from autodiff.functorch.experimental import control_flow

    assert control_flow.cond is cond and control_flow.map is map
