"""Module semantics: registration, walking, modes, in-place conversion, state dicts, reprs.

Layers built from ops every branch has (matmul, +), so this file tests the Module system
alone; the library's layers are tested in test_layers.py."""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn


class Affine(nn.Module):
    """x @ w + b, with a running-count buffer and a non-persistent buffer."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.w = nn.Parameter(autodiff.randn(n_in, n_out))
        self.b = nn.Parameter(autodiff.zeros(n_out))
        self.register_buffer("count", autodiff.zeros(1))
        self.register_buffer("scratch", autodiff.ones(2), persistent=False)

    def forward(self, x: autodiff.Tensor) -> autodiff.Tensor:
        return x @ self.w + self.b


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = Affine(3, 4)
        self.blocks = nn.ModuleList([Affine(4, 4), Affine(4, 4)])
        self.last = Affine(4, 2)
        self.scale = 2.0

    def forward(self, x: autodiff.Tensor) -> autodiff.Tensor:
        x = self.first(x)
        for block in self.blocks:
            x = block(x)
        return self.last(x) * self.scale


def test_parameters_buffers_and_modules_are_registered_in_order() -> None:
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["first.w", "first.b", "blocks.0.w", "blocks.0.b", "blocks.1.w",
                     "blocks.1.b", "last.w", "last.b"]
    assert [name for name, _ in net.named_buffers()] == [
        "first.count", "first.scratch", "blocks.0.count", "blocks.0.scratch",
        "blocks.1.count", "blocks.1.scratch", "last.count", "last.scratch"]
    assert [name for name, _ in net.named_children()] == ["first", "blocks", "last"]
    assert [name for name, _ in net.named_modules()] == [
        "", "first", "blocks", "blocks.0", "blocks.1", "last"]
    assert list(net.parameters(recurse=False)) == []
    assert len(list(net.first.parameters(recurse=False))) == 2
    assert net.scale == 2.0 and "scale" in net.__dict__
    assert "w" not in net.first.__dict__  # lives in _parameters, found by __getattr__


def test_shared_parameters_and_modules_are_listed_once() -> None:
    shared = Affine(2, 2)
    outer = nn.Sequential(shared, nn.Identity(), shared)
    assert [name for name, _ in outer.named_parameters()] == ["0.w", "0.b"]
    assert len(list(outer.modules())) == 3
    everything = list(outer.named_modules(remove_duplicate=False))
    assert [name for name, _ in everything] == ["", "0", "1", "2"]
    assert [name for name, _ in outer.named_parameters(remove_duplicate=False)] == [
        "0.w", "0.b", "2.w", "2.b"]
    # Tied weights: one Parameter under two names counts once.
    tied = nn.Module()
    tied.a = Affine(2, 2)
    tied.b = Affine(2, 2)
    tied.b.w = tied.a.w
    assert len(list(tied.parameters())) == 3
    # The state dict keeps both names, as PyTorch's does.
    assert list(tied.state_dict()) == ["a.w", "a.b", "a.count", "b.w", "b.b", "b.count"]


def test_setattr_moves_names_between_registries_and_refuses_wrong_types() -> None:
    module = Affine(2, 3)
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'w' "
                       r"\(torch.nn.Parameter or None expected\)"):
        module.w = autodiff.zeros(2, 3)
    module.w = None
    assert module.w is None and "w" in module._parameters
    assert [name for name, _ in module.named_parameters()] == ["b"]
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'count'"):
        module.count = 3
    module.count = autodiff.ones(1)  # a Tensor replaces the buffer
    assert module._buffers["count"].tolist() == [1.0]
    module.child = nn.Identity()
    with pytest.raises(TypeError, match="cannot assign 'str' as child module 'child'"):
        module.child = "x"
    del module.child
    assert "child" not in module._modules
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'missing'"):
        _ = module.missing
    with pytest.raises(KeyError, match="attribute 'b' already exists"):
        module.register_buffer("b", autodiff.zeros(1))
    with pytest.raises(KeyError, match=r"buffer name can.{1,2}t contain"):
        module.register_buffer("a.b", autodiff.zeros(1))
    with pytest.raises(TypeError, match=r"cannot assign 'torch\.FloatTensor' object to parameter"):
        module.register_parameter("p", autodiff.zeros(1))  # type: ignore[arg-type]
    non_leaf = nn.Parameter(autodiff.ones(2)) * 2
    with pytest.raises(TypeError):
        module.register_parameter("q", non_leaf)  # type: ignore[arg-type]


def test_assigning_before_init_is_an_error() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(autodiff.ones(1))

    with pytest.raises(AttributeError,
                       match=r"cannot assign parameters before Module.__init__\(\) call"):
        Broken()


def test_train_eval_requires_grad_and_apply() -> None:
    net = Net()
    assert all(module.training for module in net.modules())
    assert net.eval() is net
    assert not any(module.training for module in net.modules())
    net.train()
    assert all(module.training for module in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("no")  # type: ignore[arg-type]
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())
    visited: list[str] = []
    net.apply(lambda module: visited.append(type(module).__name__))
    assert visited == ["Affine", "Affine", "Affine", "ModuleList", "Affine", "Net"]


def test_zero_grad_sets_none_or_zeroes_in_place() -> None:
    net = Affine(3, 2)
    net(autodiff.ones(4, 3)).sum().backward()
    grad = net.w.grad
    net.zero_grad(set_to_none=False)
    assert net.w.grad is grad and np.all(grad.numpy() == 0)
    net.zero_grad()
    assert net.w.grad is None and net.b.grad is None


def test_forward_and_call_and_hooks() -> None:
    module = Affine(3, 2)
    x = autodiff.ones(5, 3)
    expected = x.numpy() @ module.w.detach().numpy() + module.b.detach().numpy()
    np.testing.assert_allclose(module(x).detach().numpy(), expected, rtol=1e-6)
    calls: list[str] = []
    pre = module.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = module.register_forward_hook(lambda m, args, out: calls.append("post") or out + 1)
    out = module(x)
    np.testing.assert_allclose(out.detach().numpy(),
                               np.broadcast_to(module.b.detach().numpy() + 1, (5, 2)))
    assert calls == ["post"]
    pre.remove()
    post.remove()
    np.testing.assert_allclose(module(x).detach().numpy(), expected, rtol=1e-6)
    with pytest.raises(NotImplementedError, match=r'Module \[ModuleList\] is missing the '
                       r'required "forward" function'):
        nn.ModuleList()(x)


def test_state_dict_is_detached_shares_memory_and_skips_non_persistent() -> None:
    net = Net()
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == [
        "first.w", "first.b", "first.count", "blocks.0.w", "blocks.0.b", "blocks.0.count",
        "blocks.1.w", "blocks.1.b", "blocks.1.count", "last.w", "last.b", "last.count"]
    assert not state["first.w"].requires_grad and state["first.w"].grad_fn is None
    with autodiff.no_grad():
        net.first.w.mul_(0)
    assert np.all(state["first.w"].numpy() == 0)  # a view of the live parameter
    assert net.state_dict(keep_vars=True)["first.w"] is net.first.w


def test_load_state_dict_round_trip_and_dtype_cast() -> None:
    source, target = Net(), Net()
    x = autodiff.randn(2, 3)
    result = target.load_state_dict(source.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(target(x).detach().numpy(), source(x).detach().numpy())
    # Values are copied into the existing Parameters (optimizers keep their references).
    weight = target.first.w
    doubled = OrderedDict((k, v.double() * 2) for k, v in source.state_dict().items())
    target.load_state_dict(doubled)
    assert target.first.w is weight and weight.dtype is autodiff.float32
    np.testing.assert_allclose(weight.detach().numpy(), source.first.w.detach().numpy() * 2)


def test_load_state_dict_errors_match_pytorch_and_change_nothing() -> None:
    net = Affine(2, 3)
    before = net.w.detach().numpy().copy()
    state = {"w": autodiff.zeros(3, 3), "foo": autodiff.zeros(1), "count": autodiff.zeros(1)}
    message = (
        "Error(s) in loading state_dict for Affine:\n"
        '\tMissing key(s) in state_dict: "b". \n'
        '\tUnexpected key(s) in state_dict: "foo". \n'
        "\tsize mismatch for w: copying a param with shape torch.Size([3, 3]) from checkpoint, "
        "the shape in current model is torch.Size([2, 3])."
    )
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    assert str(error.value) == message
    np.testing.assert_array_equal(net.w.detach().numpy(), before)
    # strict=False reports the keys; a size mismatch is still an error.
    state = {"w": autodiff.ones(2, 3), "foo": autodiff.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["b", "count"] and result.unexpected_keys == ["foo"]
    assert repr(result) == ("_IncompatibleKeys(missing_keys=['b', 'count'], "
                            "unexpected_keys=['foo'])")
    np.testing.assert_array_equal(net.w.detach().numpy(), np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="size mismatch for w"):
        net.load_state_dict({"w": autodiff.ones(1)}, strict=False)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        net.load_state_dict([1, 2])  # type: ignore[arg-type]
    nested = nn.Sequential(Affine(2, 2))
    with pytest.raises(RuntimeError) as error:
        nested.load_state_dict({"0.w": autodiff.zeros(2, 2), "0.b": autodiff.zeros(2),
                                "0.count": autodiff.zeros(1), "1.w": autodiff.zeros(1),
                                "0.x.y": autodiff.zeros(1)})
    assert str(error.value) == ("Error(s) in loading state_dict for Sequential:\n"
                                '\tUnexpected key(s) in state_dict: "1.w", "0.x.y". ')


def test_load_state_dict_assign_replaces_parameters() -> None:
    net = Affine(2, 2)
    new_w = autodiff.ones(2, 2)
    net.load_state_dict({"w": new_w, "b": autodiff.zeros(2), "count": autodiff.zeros(1)},
                        assign=True)
    assert isinstance(net.w, nn.Parameter) and net.w.requires_grad
    assert net.w._data is new_w._data


def test_to_float_double_convert_in_place() -> None:
    net = Affine(3, 2)
    weight = net.w
    net(autodiff.ones(1, 3)).sum().backward()
    assert net.double() is net
    assert net.w is weight and weight.dtype is autodiff.float64
    assert weight.grad.dtype is autodiff.float64
    assert net.count.dtype is autodiff.float64
    net.to(autodiff.float32)
    assert weight.dtype is autodiff.float32 and net.b.dtype is autodiff.float32
    net.float()
    with pytest.raises(TypeError, match=r"nn\.Module\.to only accepts floating point or complex "
                       r"dtypes, but got desired dtype=torch\.int64"):
        net.to(autodiff.int64)
    assert net.to(autodiff.zeros(1, dtype=autodiff.float64)).w.dtype is autodiff.float64


@pytest.mark.parametrize(("args", "kwargs", "got"), [
    ((lambda: 0,), {}, "function"),
    (("cpu", 3), {}, "str, int"),
    ((autodiff.float32, "cpu"), {}, "torch.dtype, str"),
    ((), {"foo": 1}, "foo=int, "),
])
def test_to_refuses_what_no_form_takes(args: tuple, kwargs: dict, got: str) -> None:
    """PyTorch's argument parser's message for Module.to (an averaging function passed where
    AveragedModel takes a device reaches it, as in optim.swa_utils' docstring example)."""
    expected = (
        f"to() received an invalid combination of arguments - got ({got}), but expected one "
        "of:\n * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = "
        "False, bool copy = False, *, torch.memory_format memory_format = None)\n * (torch.dtype "
        "dtype, bool non_blocking = False, bool copy = False, *, torch.memory_format "
        "memory_format = None)\n * (Tensor tensor, bool non_blocking = False, bool copy = False, "
        "*, torch.memory_format memory_format = None)\n")
    with pytest.raises(TypeError) as caught:
        nn.Linear(1, 1).to(*args, **kwargs)
    assert str(caught.value) == expected
    with pytest.raises(RuntimeError, match=r"^\.to\(\) does not accept copy argument$"):
        nn.Linear(1, 1).to(autodiff.float64, False, True)
    linear = nn.Linear(1, 1).to("cpu", autodiff.float64, True)
    assert linear.weight.dtype is autodiff.float64
    assert linear.to(None, autodiff.float32).weight.dtype is autodiff.float32


def test_stateless_functional_call_is_the_deprecated_func_functional_call() -> None:
    from autodiff.nn.utils.stateless import functional_call

    linear = nn.Linear(1, 1)
    with pytest.warns(FutureWarning, match=r"`torch.nn.utils.stateless.functional_call` is "
                      r"deprecated as of PyTorch 2.0"):
        out = functional_call(linear, {"weight": autodiff.ones(1, 1) * 2,
                                       "bias": autodiff.zeros(1)}, (autodiff.ones(1, 1) * 3,))
    assert out.tolist() == [[6.0]] and linear.weight.shape == (1, 1)


def test_to_complex_dtype_converts_floating_parameters() -> None:
    """PyTorch's Module.to takes complex dtypes too (with its warning that complex modules are
    new): floating and complex parameters convert, integer buffers stay."""
    linear = nn.Linear(2, 2, bias=False)
    linear.register_buffer("steps", autodiff.tensor([1]))
    with pytest.warns(UserWarning, match="Complex modules are a new feature"):
        assert linear.to(autodiff.cdouble) is linear
    assert linear.weight.dtype is autodiff.complex128 and linear.steps.dtype is autodiff.int64
    out = linear(autodiff.ones(3, 2, dtype=autodiff.cdouble))
    assert out.dtype is autodiff.complex128 and tuple(out.shape) == (3, 2)
    linear.to(autodiff.complex64)
    assert linear.weight.dtype is autodiff.complex64


def test_to_device_moves_parameters_in_place(device: str) -> None:
    net = Affine(3, 2)
    weight = net.w
    values = weight.detach().numpy().copy()
    net(autodiff.ones(1, 3)).sum().backward()
    net.to(device)
    target = autodiff.device(device) if ":" in device else autodiff.zeros(1, device=device).device
    assert net.w is weight and weight.device == target and weight.grad.device == target
    assert net.count.device == target
    out = net(autodiff.ones(1, 3, device=device))
    assert out.device == target
    np.testing.assert_array_equal(weight.detach().cpu().numpy(), values)
    net.cpu()
    assert weight.device == autodiff.device("cpu")


def test_parameter_basics() -> None:
    data = autodiff.tensor([1.0, 2.0])
    parameter = nn.Parameter(data)
    assert parameter.requires_grad and parameter.is_leaf
    assert isinstance(parameter, autodiff.Tensor)
    assert parameter._data is data._data  # shares memory, as PyTorch's Parameter does
    assert repr(parameter) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    frozen = nn.Parameter(autodiff.tensor([1.0]), requires_grad=False)
    assert repr(frozen) == "Parameter containing:\ntensor([1.])"
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        nn.Parameter(autodiff.tensor([1, 2]))
    clone = copy.deepcopy(parameter)
    assert isinstance(clone, nn.Parameter) and clone.requires_grad
    assert clone._data is not parameter._data and clone.tolist() == [1.0, 2.0]
    assert (parameter * 2).grad_fn is not None  # ops on Parameters record as on Tensors


def test_deepcopy_of_a_module_and_of_its_state_dict() -> None:
    net = nn.Sequential(Affine(2, 2))
    clone = copy.deepcopy(net)
    assert clone[0].w is not net[0].w and isinstance(clone[0].w, nn.Parameter)
    assert clone[0].count is not net[0].count
    np.testing.assert_array_equal(clone[0].w.detach().numpy(), net[0].w.detach().numpy())
    best = copy.deepcopy(net.state_dict())  # the usual "keep the best weights" idiom
    with autodiff.no_grad():
        net[0].w.add_(1)
    assert not np.array_equal(best["0.w"].numpy(), net[0].w.detach().numpy())
    net.load_state_dict(best)
    np.testing.assert_array_equal(net[0].w.detach().numpy(), clone[0].w.detach().numpy())


def test_module_repr_matches_pytorch() -> None:
    net = nn.Sequential(
        nn.Linear(3, 4), nn.ReLU(),
        nn.Sequential(nn.Linear(4, 2, bias=False), nn.Dropout(0.1)),
        nn.ModuleList([nn.Tanh(), nn.GELU(approximate="tanh")]),
        nn.Embedding(10, 3, padding_idx=0), nn.LayerNorm(3), nn.Flatten(), nn.Identity(),
        nn.Sigmoid(), nn.GELU(), nn.LayerNorm((3, 4), eps=1e-3, elementwise_affine=False),
        nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(inplace=True)]),
        nn.CrossEntropyLoss(), nn.ModuleList(), nn.Sequential(),
    )
    expected = """Sequential(
  (0): Linear(in_features=3, out_features=4, bias=True)
  (1): ReLU()
  (2): Sequential(
    (0): Linear(in_features=4, out_features=2, bias=False)
    (1): Dropout(p=0.1, inplace=False)
  )
  (3): ModuleList(
    (0): Tanh()
    (1): GELU(approximate='tanh')
  )
  (4): Embedding(10, 3, padding_idx=0)
  (5): LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)
  (6): Flatten(start_dim=1, end_dim=-1)
  (7): Identity()
  (8): Sigmoid()
  (9): GELU(approximate='none')
  (10): LayerNorm((3, 4), eps=0.001, elementwise_affine=False, bias=False)
  (11): ModuleList(
    (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
    (3): ReLU(inplace=True)
  )
  (12): CrossEntropyLoss()
  (13): ModuleList()
  (14): Sequential()
)"""
    assert repr(net) == expected
    torch = pytest.importorskip("torch")
    reference = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Linear(4, 2, bias=False), torch.nn.Dropout(0.1)),
        torch.nn.ModuleList([torch.nn.Tanh(), torch.nn.GELU(approximate="tanh")]),
        torch.nn.Embedding(10, 3, padding_idx=0), torch.nn.LayerNorm(3), torch.nn.Flatten(),
        torch.nn.Identity(), torch.nn.Sigmoid(), torch.nn.GELU(),
        torch.nn.LayerNorm((3, 4), eps=1e-3, elementwise_affine=False),
        torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)]
                            + [torch.nn.ReLU(inplace=True)]),
        torch.nn.CrossEntropyLoss(), torch.nn.ModuleList(), torch.nn.Sequential(),
    )
    assert repr(reference) == expected


def test_sequential_and_module_list_behave_like_lists() -> None:
    a, b, c = Affine(2, 2), nn.Identity(), Affine(2, 2)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    assert isinstance(seq[0:1], nn.Sequential) and list(seq[0:1]) == [a]
    seq.append(c)
    assert seq[2] is c and [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    del seq[1]
    assert list(seq) == [a, c] and list(seq._modules) == ["0", "1"]
    seq[1] = b
    assert seq[1] is b
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    x = autodiff.ones(1, 2)
    np.testing.assert_allclose(nn.Sequential(a, c)(x).detach().numpy(),
                               c(a(x)).detach().numpy())
    named = nn.Sequential(OrderedDict([("enc", a), ("dec", c)]))
    assert [n for n, _ in named.named_children()] == ["enc", "dec"] and named.enc is a
    items = nn.ModuleList([a])
    items.append(b)
    items.extend([c])
    items.insert(1, nn.Identity())
    assert len(items) == 4 and items[0] is a and items[2] is b and items[-1] is c
    assert [n for n, _ in items.named_parameters()] == ["0.w", "0.b", "3.w", "3.b"]
    assert list(items[1:3]) == [items[1], b]
    with pytest.raises(TypeError, match=r"ModuleList\.extend should be called with an iterable"):
        items.extend(3)  # type: ignore[arg-type]
    table = nn.ModuleDict({"a": a, "c": c})
    assert list(table) == ["a", "c"] and table["c"] is c and "a" in table
    assert len(list(table.parameters())) == 4


def test_get_submodule_and_dir() -> None:
    net = Net()
    assert net.get_submodule("blocks.1") is net.blocks[1]
    with pytest.raises(AttributeError, match="Net has no attribute `nope`"):
        net.get_submodule("nope")
    assert {"first", "blocks", "last", "forward"} <= set(dir(net))


# PyTorch 2.13's text for Linear(4, 2) given a (3, 4) weight and no bias: every problem at
# once, missing and unexpected keys first (its load inserts them ahead of the size mismatches).
_LINEAR_MISMATCH = (
    "Error(s) in loading state_dict for Linear:\n"
    '\tMissing key(s) in state_dict: "bias". \n'
    "\tsize mismatch for weight: copying a param with shape torch.Size([3, 4]) from checkpoint, "
    "the shape in current model is torch.Size([2, 4])."
)


def _load_cases(t: Any) -> list[Any]:
    """What each of a few bad loads does: the message, or strict=False's return value."""
    results: list[Any] = []
    linear = t.nn.Linear(4, 2)
    for state, strict in (
        ({"weight": t.zeros(3, 4)}, True),
        ({"weight": t.zeros(3, 4), "bias": t.zeros(2), "extra": t.zeros(1)}, True),
        ({"weight": t.zeros(2, 4), "extra": t.zeros(1)}, False),
        ({"weight": t.zeros(3, 4), "extra": t.zeros(1)}, False),
    ):
        try:
            results.append(repr(linear.load_state_dict(state, strict=strict)))
        except RuntimeError as error:
            results.append(str(error))
    nested = t.nn.Sequential(t.nn.Linear(2, 2), t.nn.ReLU(), t.nn.Linear(2, 3))
    try:
        nested.load_state_dict({"2.weight": t.zeros(9), "0.weight": t.zeros(3, 3),
                                "2.bias": t.zeros(3), "1.foo": t.zeros(1), "0.bias": 5})
    except RuntimeError as error:
        results.append(str(error))
    return results


def test_load_state_dict_lists_every_problem() -> None:
    net = nn.Linear(4, 2)
    before = [p.detach().numpy().copy() for p in net.parameters()]
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict({"weight": autodiff.zeros(3, 4)})
    assert str(error.value) == _LINEAR_MISMATCH
    # A failed load changes nothing (PyTorch copies the entries that fit before raising).
    with pytest.raises(RuntimeError):
        net.load_state_dict({"weight": autodiff.zeros(3, 4), "bias": autodiff.ones(2)})
    for parameter, value in zip(net.parameters(), before):
        np.testing.assert_array_equal(parameter.detach().numpy(), value)
    result = net.load_state_dict({"weight": autodiff.zeros(2, 4), "extra": autodiff.zeros(1)},
                                 strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert tuple(result) == (["bias"], ["extra"])


def test_load_state_dict_messages_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _load_cases(autodiff), _load_cases(torch)
    assert ours == theirs
    assert ours[0] == _LINEAR_MISMATCH


def test_state_dict_metadata_holds_each_module_version_as_pytorch() -> None:
    model = autodiff.nn.Sequential(autodiff.nn.Linear(2, 2), autodiff.nn.BatchNorm1d(2))
    metadata = model.state_dict()._metadata
    assert metadata == {"": {"version": 1}, "0": {"version": 1}, "1": {"version": 2}}
    torch = pytest.importorskip("torch")
    reference = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    assert metadata == reference.state_dict()._metadata


def test_batch_norm_loads_a_checkpoint_from_before_num_batches_tracked() -> None:
    layer = autodiff.nn.BatchNorm2d(3)
    layer.num_batches_tracked.fill_(7)
    old = OrderedDict((k, v) for k, v in layer.state_dict().items() if k != "num_batches_tracked")
    fresh = autodiff.nn.BatchNorm2d(3)
    fresh.num_batches_tracked.fill_(5)
    assert str(fresh.load_state_dict(old)) == "<All keys matched successfully>"
    assert fresh.num_batches_tracked.item() == 0  # PyTorch's count for such checkpoints
    # Metadata that says version 2 means the key was dropped: it is missing.
    old._metadata = OrderedDict({"": {"version": 2}})  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        fresh.load_state_dict(old)
    assert fresh.load_state_dict(old, strict=False).missing_keys == ["num_batches_tracked"]


class _Counter(nn.Module):
    """A module with extra state (a Python count) beside its parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(autodiff.ones(2))
        self.calls = 0

    def get_extra_state(self) -> Any:
        return {"calls": self.calls}

    def set_extra_state(self, state: Any) -> None:
        self.calls = state["calls"]


def test_extra_state_goes_through_the_state_dict() -> None:
    source = nn.Sequential(_Counter())
    source[0].calls = 7
    state = source.state_dict()
    assert list(state) == ["0.scale", "0._extra_state"] and state["0._extra_state"] == {"calls": 7}
    target = nn.Sequential(_Counter())
    assert target.load_state_dict(state) is not None and target[0].calls == 7
    del state["0._extra_state"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0._extra_state"'):
        target.load_state_dict(state)
    result = target.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0._extra_state"]
    plain = nn.Linear(2, 2)  # no extra state of its own: the key is unexpected
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "_extra_state"'):
        plain.load_state_dict({**plain.state_dict(), "_extra_state": 1})
    with pytest.raises(RuntimeError, match=r"^Reached a code path in Module.get_extra_state\(\)"):
        plain.get_extra_state()


def test_state_dict_hooks() -> None:
    model = nn.Sequential(nn.Linear(2, 2))
    seen: list[Any] = []
    model.register_state_dict_pre_hook(lambda module, prefix, keep_vars: seen.append(prefix))

    def post(module: nn.Module, state: Any, prefix: str, local_metadata: Any) -> None:
        state[prefix + "note"] = local_metadata["version"]

    handle = model[0].register_state_dict_post_hook(post)
    state = model.state_dict()
    assert seen == [""] and state["0.note"] == 1
    handle.remove()
    assert "0.note" not in model.state_dict()
    model.register_state_dict_post_hook(lambda *args: {})
    with pytest.raises(RuntimeError, match=r"^state_dict post-hook must return None$"):
        model.state_dict()
    legacy = nn.Linear(2, 2)
    legacy._register_state_dict_hook(lambda module, state, prefix, meta: {"replaced": 1})
    assert dict(legacy.state_dict()) == {"replaced": 1}


def test_get_parameter_get_buffer_set_submodule_and_type() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.running_mean") is model[1].running_mean
    with pytest.raises(AttributeError, match=r"^Linear has no attribute `x`$"):
        model.get_parameter("0.x")
    with pytest.raises(AttributeError, match=r"^`running_mean` is not an nn\.Parameter$"):
        model.get_parameter("1.running_mean")
    with pytest.raises(AttributeError, match=r"^`weight` is not a buffer$"):
        model.get_buffer("0.weight")
    replacement = nn.Linear(2, 3)
    model.set_submodule("0", replacement)
    assert model[0] is replacement
    with pytest.raises(AttributeError, match=r"^Sequential has no attribute `5`$"):
        model.set_submodule("5", nn.ReLU(), strict=True)
    with pytest.raises(ValueError, match=r"^`module` is not an nn\.Module, found <class 'int'>$"):
        model.set_submodule("0", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^Cannot set the submodule without a target name!$"):
        model.set_submodule("", nn.ReLU())
    with pytest.raises(AttributeError, match=r"^`weight` is not an nn\.Module$"):
        model.set_submodule("0.weight", nn.ReLU())
    assert model.type(autodiff.float64) is model and model[0].weight.dtype == autodiff.float64


def test_init_arguments_as_pytorch() -> None:
    with pytest.raises(TypeError, match=r"^Module.__init__\(\) got an unexpected keyword "
                                        r"argument 'size'$"):
        nn.Module(size=3)
    with pytest.raises(TypeError, match=r"^Module.__init__\(\) takes 1 positional argument but "
                                        r"3 were given$"):
        nn.Module(1, 2)

    class Base:
        def __init__(self, value: int) -> None:
            self.value = value

    class Both(nn.Module, Base):
        call_super_init = True

        def __init__(self) -> None:
            super().__init__(5)

    assert Both().value == 5 and nn.Module.dump_patches is False
