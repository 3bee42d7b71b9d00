"""In-place ops and version counters, checked against PyTorch run on the same inputs.

Each scenario is written once against a library argument (`lib` is `torch` or `autodiff`) and
returns what should agree: values, gradients, node names, error messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")

Scenario = Callable[[Any, Any, str], Any]


def _leaf(lib: Any, device: str, shape: tuple[int, ...] = (4, 3), seed: int = 0,
          low: float = -2.0, high: float = 2.0) -> Any:
    values = np.random.default_rng(seed).uniform(low, high, size=shape)
    if lib is torch:
        return torch.tensor(values, requires_grad=True)
    return autodiff.tensor(values, device=device, requires_grad=True)


def _plain(value: Any) -> Any:
    """Tensors as nested lists, node names as strings, recursively; errors as (type, text)."""
    if isinstance(value, (torch.Tensor, autodiff.Tensor)):
        return np.asarray(value.detach().tolist(), dtype=np.float64)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _run(scenario: Scenario, lib: Any, device: str) -> Any:
    try:
        return _plain(scenario(lib, _leaf(lib, device), device))
    except (RuntimeError, IndexError, ValueError) as error:
        return (type(error).__name__, str(error))


def _assert_same(expected: Any, actual: Any) -> None:
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), actual
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), actual
        for item, other in zip(expected, actual):
            _assert_same(item, other)
    else:
        assert actual == expected


def check(scenario: Scenario, device: str) -> None:
    _assert_same(_run(scenario, torch, device), _run(scenario, autodiff, device))


def _t(lib: Any, values: Any, device: str, **kwargs: Any) -> Any:
    if lib is torch:
        return torch.tensor(values, **kwargs)
    return autodiff.tensor(values, device=device, **kwargs)


def _grads(lib: Any, out: Any, *leaves: Any) -> list[Any]:
    """Backward from a weighted sum (the weights tell positions apart); the leaves' grads."""
    weights = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
    (out * (torch.tensor(weights) if lib is torch else autodiff.tensor(
        weights, device=out.device))).sum().backward()
    return [leaf.grad for leaf in leaves]


# ----------------------------------------------------------------------------- every op, twice
def _other(lib: Any, device: str, shape: tuple[int, ...] = (4, 3), seed: int = 1) -> Any:
    return _leaf(lib, device, shape, seed, 0.5, 2.0)


# name -> in-place call on `x` (a non-leaf of shape (4, 3)) given the other leaf `b` of (4, 3)
INPLACE_OPS: dict[str, Callable[[Any, Any, Any, str], Any]] = {
    "add_": lambda lib, x, b, d: x.add_(b),
    "add_alpha": lambda lib, x, b, d: x.add_(b[0], alpha=-1.5),
    "add_number": lambda lib, x, b, d: x.add_(2),
    "sub_": lambda lib, x, b, d: x.sub_(b, alpha=2),
    "mul_": lambda lib, x, b, d: x.mul_(b),
    "mul_number": lambda lib, x, b, d: x.mul_(-3.0),
    "div_": lambda lib, x, b, d: x.div_(b[:, :1]),
    "pow_": lambda lib, x, b, d: x.pow_(2),
    "pow_tensor": lambda lib, x, b, d: x.mul_(x).add_(0.5).pow_(b),
    "clamp_": lambda lib, x, b, d: x.clamp_(-0.5, 0.8),
    "clamp_min": lambda lib, x, b, d: x.clamp_(min=0.1),
    "clamp_tensor": lambda lib, x, b, d: x.clamp_(b - 1.5, b),
    "zero_": lambda lib, x, b, d: x.zero_(),
    "fill_": lambda lib, x, b, d: x.fill_(0.25),
    "fill_tensor": lambda lib, x, b, d: x.fill_(b[1, 2]),
    "copy_": lambda lib, x, b, d: x.copy_(b[2]),
    "copy_cast": lambda lib, x, b, d: x.copy_(_t(lib, [1, 2, 3], d)),
    "masked_fill_": lambda lib, x, b, d: x.masked_fill_(b > 1.2, -7.0),
    "masked_fill_tensor": lambda lib, x, b, d: x.masked_fill_(b > 1.2, b[0, 0]),
    "addcmul_": lambda lib, x, b, d: x.addcmul_(b, b[0], value=0.5),
    "addcdiv_": lambda lib, x, b, d: x.addcdiv_(b[1], b, value=-2),
    "exp_": lambda lib, x, b, d: x.exp_(),
    "neg_": lambda lib, x, b, d: x.neg_(),
    "sigmoid_": lambda lib, x, b, d: x.sigmoid_(),
    "scatter_": lambda lib, x, b, d: x.scatter_(0, _t(lib, [[3, 0, 1]], d), b[:1]),
    "scatter_value": lambda lib, x, b, d: x.scatter_(1, _t(lib, [[2], [0]], d), 9.0),
    "scatter_add_": lambda lib, x, b, d: x.scatter_add_(0, _t(lib, [[3, 3, 1], [3, 0, 0]], d),
                                                        b[:2]),
    "index_add_": lambda lib, x, b, d: x.index_add_(0, _t(lib, [1, 1, 0], d), b[:3]),
    "index_put_": lambda lib, x, b, d: x.index_put_((_t(lib, [2, 2], d),), b[:2],
                                                    accumulate=True),
    "tril_": lambda lib, x, b, d: x.tril_(),
    "triu_": lambda lib, x, b, d: x.triu_(1),
    "iadd": lambda lib, x, b, d: x.__iadd__(b),
    "imul": lambda lib, x, b, d: x.__imul__(b),
    "isub": lambda lib, x, b, d: x.__isub__(b),
    "itruediv": lambda lib, x, b, d: x.__itruediv__(b + 3),
    "setitem_int": lambda lib, x, b, d: x.__setitem__(1, b[0]),
    "setitem_slice": lambda lib, x, b, d: x.__setitem__((slice(None), slice(1, None)), 0.5),
    "setitem_list": lambda lib, x, b, d: x.__setitem__([3, 0], b[1:3]),
    "setitem_mask": lambda lib, x, b, d: x.__setitem__(b > 1.0, 0.0),
    "setitem_mask_tensor": lambda lib, x, b, d: x.__setitem__(b > 1.0, b[3, 1]),
    "setitem_mixed": lambda lib, x, b, d: x.__setitem__((slice(1, 3), [2, 0]), b[:2, :2]),
    "setitem_ellipsis": lambda lib, x, b, d: x.__setitem__(Ellipsis, b * 2),
}

# The in-place forms of elementwise ops built by another family: checked once they exist.
for _name in ("sqrt", "abs", "relu", "tanh", "log", "reciprocal"):
    if hasattr(autodiff.Tensor, _name):
        INPLACE_OPS[f"{_name}_"] = (lambda name: lambda lib, x, b, d: getattr(
            x, f"{name}_")())(_name)
if hasattr(autodiff.Tensor, "lerp"):
    INPLACE_OPS["lerp_"] = lambda lib, x, b, d: x.lerp_(b, 0.25)


def _start(name: str, a: Any) -> Any:
    """The non-leaf an op modifies: positive for the ops defined only there."""
    return a * a + 0.25 if name in ("sqrt_", "log_", "reciprocal_") else a * 1 + 0.25


@pytest.mark.parametrize("name", list(INPLACE_OPS))
def test_inplace_op_on_a_non_leaf(name: str, device: str) -> None:
    """Values, version, the new node, and gradients to the old history and the other input."""
    def scenario(lib: Any, a: Any, device: str) -> Any:
        b = _other(lib, device)
        x = _start(name, a)
        before = x._version
        result = INPLACE_OPS[name](lib, x, b, device)
        assert result is x or name.startswith("setitem")
        grads = _grads(lib, x, a, b)
        return [x, x._version - before, x.grad_fn.name(), grads]

    check(scenario, device)


@pytest.mark.parametrize("name", list(INPLACE_OPS))
def test_inplace_op_on_a_view(name: str, device: str) -> None:
    """The same op on a view: the base sees it, takes CopySlices, and gradients are torch's."""
    def scenario(lib: Any, a: Any, device: str) -> Any:
        b = _other(lib, device)
        x = _start(name, a)
        base = x.repeat(2, 1)[1:5]  # a non-leaf that is itself a view of a bigger one
        view = base.t().t()
        INPLACE_OPS[name](lib, view, b, device)
        grads = _grads(lib, base.repeat(1, 1), a, b)
        return [base, view, base._version, view.grad_fn.name(), grads]

    check(scenario, device)


# ----------------------------------------------------------------------------- refusals
def test_leaf_that_requires_grad_is_refused_unchanged(device: str) -> None:
    a = _leaf(autodiff, device)
    before = a.tolist()
    for op in (lambda: a.add_(1), lambda: a.zero_(), lambda: a.copy_(a * 2),
               lambda: a.__setitem__([0], 1.0), lambda: a.masked_fill_(a > 0, 0.0)):
        with pytest.raises(RuntimeError) as info:
            op()
        assert str(info.value) == ("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
    with pytest.raises(RuntimeError) as info:
        a[0] = 1.0
    assert str(info.value) == ("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
    assert a.tolist() == before and a._version == 0 and a.grad_fn is None


@pytest.mark.parametrize("case", [
    "shape", "dtype", "overlap", "multi_output", "no_grad_view", "index", "mask", "copy_shape",
    "value_shape", "fill_value",
])
def test_failed_inplace_op_changes_nothing(case: str, device: str) -> None:
    def scenario(lib: Any, a: Any, device: str) -> Any:
        x = a * 1
        ints = _t(lib, [1, 2, 3], device)
        node = x.grad_fn
        try:
            if case == "shape":
                x.add_(_t(lib, np.ones((2, 4, 3)), device))
            elif case == "dtype":
                ints.mul_(1.5)
            elif case == "overlap":
                x[0].expand(2, 3).mul_(2)
            elif case == "multi_output":
                x.split(2)[1].add_(1)
            elif case == "no_grad_view":
                with lib.no_grad():
                    view = x[1]
                view.mul_(2)
            elif case == "index":
                x[[0, 4]] = 1.0
            elif case == "mask":
                x.masked_fill_(_t(lib, [True, False], device), 1.0)
            elif case == "copy_shape":
                x.copy_(_t(lib, np.ones((3, 4)), device))
            elif case == "value_shape":
                x[[0, 1]] = _t(lib, np.ones(2), device)
            elif case == "fill_value":
                x.fill_(_t(lib, np.ones(2), device))
        except (RuntimeError, IndexError, ValueError) as error:
            if lib is torch and case == "index":
                return [type(error).__name__, str(error)]  # PyTorch writes the good indices
            assert x.grad_fn is node and x._version == 0 and ints._version == 0
            assert np.array_equal(np.array(x.tolist()), np.array(a.tolist()))
            return [type(error).__name__, str(error)] + ([x, ints] if case != "index" else [])
        raise AssertionError("no error")

    check(scenario, device)


def test_views_made_by_multi_output_ops_and_no_grad_views(device: str) -> None:
    def scenario(lib: Any, a: Any, device: str) -> Any:
        messages = []
        x = a * 1
        pieces = x.unbind()
        x.mul_(2)  # the pieces cannot follow: backward through one of them is refused
        try:
            pieces[0].sum().backward()
        except RuntimeError as error:
            messages.append(str(error))
        plain = _t(lib, np.zeros(3), device)
        plain_pieces = plain.unbind()
        try:
            plain_pieces[0].add_(a[0, 0])
        except RuntimeError as error:
            messages.append(str(error))
        y = a * 1
        with lib.no_grad():
            inside = y[0]
            inside.mul_(10)  # fine: both inside no_grad
        return [messages, y, y._version]

    check(scenario, device)


# ----------------------------------------------------------------------------- version counters
VERSION_ERRORS = {
    "input_saved": lambda lib, a: (lambda x: (x.sin(), x.add_(1))[0])(a * 1),
    "output_saved": lambda lib, a: (lambda y: (y, y.mul_(2))[0])((a * 1).exp()),
    "inplace_output_saved": lambda lib, a: (lambda x: (x.exp_(), x.add_(1))[0])(a * 1),
    "leaf_under_no_grad": lambda lib, a: _modify_leaf_later(lib, a),
    "plain_tensor_saved": lambda lib, a: _modify_plain_later(lib, a),
    "view_saved": lambda lib, a: (lambda x: (x[:2].sin(), x.add_(1))[0])(a * 1),
    "base_of_saved_view": lambda lib, a: (lambda x: (x.sin(), x[1].zero_())[0])(a * 1),
    "view_output_saved": lambda lib, a: _view_output_saved(a),
    "copy_then_saved": lambda lib, a: (lambda x: (x.sin(), x.copy_(a))[0])(a * 1),
    "setitem_then_saved": lambda lib, a: (lambda x: (x.sin(), x.__setitem__(0, 2.0))[0])(a * 1),
    "index_put_then_saved": lambda lib, a: (lambda x: (x.sin(), x.__setitem__([0], 2.0))[0])(
        a * 1),
    "clamp_then_saved": lambda lib, a: (lambda x: (x.sin(), x.clamp_(0, 1))[0])(a * 1),
    "mul_self": lambda lib, a: (lambda x: x.mul_(x))(a * 1),
    "float32": lambda lib, a: (lambda x: (x.sin(), x.add_(1))[0])(a.float() * 1),
}


def _modify_leaf_later(lib: Any, a: Any) -> Any:
    y = a.sin()
    with lib.no_grad():
        a.add_(1)
    return y


def _modify_plain_later(lib: Any, a: Any) -> Any:
    w = a.detach() * 1
    y = a * w
    w.add_(1)
    return y


def _view_output_saved(a: Any) -> Any:
    x = a * 1
    view = x[:2]
    view.exp_()
    view.add_(1)
    return x


@pytest.mark.parametrize("name", list(VERSION_ERRORS))
def test_modified_saved_tensor_raises_pytorch_message(name: str, device: str) -> None:
    def scenario(lib: Any, a: Any, device: str) -> Any:
        out = VERSION_ERRORS[name](lib, a)
        out.sum().backward()
        return a.grad

    expected = _run(scenario, torch, device)
    assert isinstance(expected, tuple), "torch raised nothing"
    assert _run(scenario, autodiff, device) == expected
    # Nothing was accumulated by the failed backward.


def test_version_counter_is_shared_and_counts_like_pytorch(device: str) -> None:
    def scenario(lib: Any, a: Any, device: str) -> Any:
        x = a * 1
        view = x[1:].t()
        versions = [x._version]
        x.add_(1)
        view.mul_(2)
        x[0] = 3.0
        x[[0, 1]] = 1.0
        with lib.no_grad():
            x.zero_()
        x.detach().add_(1)
        versions.append(x._version)
        versions.append(view._version)
        return versions

    check(scenario, device)


# ----------------------------------------------------------------------------- views
VIEW_SCENARIOS = {
    "base_sees_view_write": lambda lib, a: _view_then(lib, a, lambda x: x[0].mul_(2)),
    "view_sees_base_write": lambda lib, a: _view_then(lib, a, lambda x: x.mul_(3), use_view=True),
    "sibling_view": lambda lib, a: _view_then(lib, a, lambda x: x[1:3, :2].exp_(), use_view=True),
    "view_of_view": lambda lib, a: _view_then(lib, a, lambda x: x.view(12)[3:9].view(2, 3)[1]
                                              .add_(a[0])),
    "transposed": lambda lib, a: _view_then(lib, a, lambda x: x.t()[1].copy_(a[:, 0] * 5)),
    "diagonal": lambda lib, a: _view_then(lib, a, lambda x: x[:3].diagonal().mul_(a[0])),
    "expand_then_view": lambda lib, a: _view_then(lib, a, lambda x: x.unsqueeze(0)[0, 2].zero_(),
                                                  use_view=True),
    "plain_base": lambda lib, a: _plain_base(lib, a),
    "twice": lambda lib, a: _view_then(lib, a, lambda x: (x[0].mul_(2), x[0].add_(a[1]),
                                                          x[:, 0].div_(3))),
}


def _view_then(lib: Any, a: Any, change: Callable[[Any], Any], use_view: bool = False) -> Any:
    x = a * 1
    view = x[1:].t()
    change(x)
    out = view if use_view else x
    return [x, view, out.grad_fn.name(), _grads(lib, out * out, a)]


def _plain_base(lib: Any, a: Any) -> Any:
    buffer = lib.zeros(4, 3, dtype=lib.float64)
    row = buffer[2]
    buffer[0] = a[0] * 2
    buffer[1:3] = a[1:3].sin()
    return [buffer, row, row.requires_grad, row.grad_fn.name(), _grads(lib, row * buffer[1], a)]


@pytest.mark.parametrize("name", list(VIEW_SCENARIOS))
def test_inplace_through_views_matches_torch(name: str, device: str) -> None:
    check(lambda lib, a, device: VIEW_SCENARIOS[name](lib, a), device)


SECOND_ORDER = {
    "view_mul": lambda lib, a: (lambda x: (x[1].mul_(a[0]), x)[1])(a * a),
    "setitem_slice": lambda lib, a: (lambda x: (x.__setitem__(slice(1, 3), a[:2].sin() * 2), x)[1])(
        a * a),
    "setitem_list": lambda lib, a: (lambda x: (x.__setitem__([0, 1, 1], a[2] * a[3]), x)[1])(a * 1),
    "view_exp": lambda lib, a: (lambda x: (x[:, 1:].exp_(), x)[1])(a * 1),
    "transposed_clamp": lambda lib, a: (lambda x: (x.t()[1:].clamp_(-0.5, 0.5), x)[1])(a * 1),
    "pow": lambda lib, a: (lambda x: x.pow_(3))(a.exp()),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_double_backward_through_inplace_ops(name: str, device: str) -> None:
    def scenario(lib: Any, a: Any, device: str) -> Any:
        out = SECOND_ORDER[name](lib, a)
        (out ** 2).sum().backward(create_graph=True)
        grad = a.grad
        a.grad = None
        (grad * grad).sum().backward()
        return [grad, a.grad]

    check(scenario, device)


def test_backward_twice_through_copy_slices_needs_retain_graph(device: str) -> None:
    def scenario(lib: Any, a: Any, device: str) -> Any:
        x = a * 1
        x[0].exp_()
        x.sum().backward(retain_graph=True)
        x.sum().backward()
        first = a.grad.clone()
        y = a * 1
        y[0].exp_()
        y.sum().backward()
        try:
            y.sum().backward()
        except RuntimeError as error:
            return [first, str(error)]
        raise AssertionError("no error")

    check(scenario, device)


# ----------------------------------------------------------------------------- no_grad updates
def test_optimizer_steps_under_no_grad_match_torch(device: str) -> None:
    """SGD with momentum and Adam written with in-place ops, as optimizers do."""
    def scenario(lib: Any, a: Any, device: str) -> Any:
        w = a
        momentum = lib.zeros_like(w) if lib is torch else autodiff.zeros_like(w)
        m, v = momentum.clone(), momentum.clone()
        history = []
        for step in range(1, 4):
            loss = (w * w * w).sum()
            w.grad = None
            loss.backward()
            with lib.no_grad():
                momentum.mul_(0.9).add_(w.grad)
                m.mul_(0.9).add_(w.grad, alpha=0.1)
                v.mul_(0.999).addcmul_(w.grad, w.grad, value=0.001)
                denominator = (v / (1 - 0.999 ** step)).pow(0.5).add_(1e-8)
                w.addcdiv_(m, denominator, value=-0.01 / (1 - 0.9 ** step))
                w.sub_(momentum, alpha=0.01)
                w[0, 0] = w[0, 0] * 0.5
                w.clamp_(-1.5, 1.5)
            history.append(w.clone())
        return [history, w._version, w.grad_fn, w.is_leaf, w.requires_grad]

    check(scenario, device)


def test_no_grad_arithmetic_writes_into_the_same_buffer(device: str) -> None:
    w = autodiff.ones(3, device=device, requires_grad=True)
    data = w._data
    with autodiff.no_grad():
        w.add_(1).mul_(3).sub_(1).div_(2).pow_(2)
        w.addcmul_(w, w, value=0.5)
    assert w._data is data  # written in place, not replaced
    np.testing.assert_allclose(w.tolist(), [6.25 + 0.5 * 6.25 ** 2] * 3)
    assert w._version == 6 and w.grad_fn is None and w.requires_grad


def test_inplace_on_0d_tensors(device: str) -> None:
    def scenario(lib: Any, a: Any, device: str) -> Any:
        s = a.sum() * 1
        alias = s[...]
        s.add_(1)
        alias.mul_(2)
        with lib.no_grad():
            t = a.sum() * 1
            t.add_(5)
        return [s, alias, t, _grads(lib, s * 1, a)]

    check(scenario, device)


def test_views_pickle_and_deepcopy_as_plain_tensors(device: str) -> None:
    import copy
    import pickle

    base = autodiff.zeros(3, 2, device=device)
    row = base[1]
    for clone in (pickle.loads(pickle.dumps(row)), copy.deepcopy(row)):
        assert clone._base is None and clone.is_leaf and not clone.requires_grad
        clone.add_(1)  # independent of the base
        assert clone.tolist() == [1.0, 1.0]
    assert base.tolist() == [[0.0, 0.0]] * 3
    a = autodiff.ones(2, device=device, requires_grad=True)
    restored = pickle.loads(pickle.dumps((a * 2)[0]))
    assert restored.is_leaf and restored.requires_grad and restored.item() == 2.0


def test_div_in_place_takes_a_rounding_mode(device: str) -> None:
    x = autodiff.tensor([7.0, -7.0], device=device)
    assert x.div_(2, rounding_mode="floor") is x
    assert x.tolist() == [3.0, -4.0]
    x /= 2
    assert x.tolist() == [1.5, -2.0]
