"""grad_fn._saved_<name> and grad_fn._raw_saved_<name>: PyTorch's saved attributes of a node,
with its values, its freeing and its SavedTensor (register_hooks, unpack, data), on every
device. The messages are PyTorch 2.13's."""

from __future__ import annotations

import pytest

import autodiff
from autodiff.saved import FREED

HOOKS_FREED = (
    "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate "
    "values of the graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or if you need "
    "to access saved variables after calling backward.")
HOOKS_TWICE = ("Calling register_hooks on a saved tensor whose hooks have already been set. "
               "Hint: only one pair of hooks is allowed at a time.")


def _saved_names(node: object) -> list[str]:
    return sorted(name for name in dir(node) if name.startswith(("_saved_", "_raw_saved_")))


def _leaves(device: str) -> tuple[autodiff.Tensor, autodiff.Tensor]:
    a = autodiff.tensor([1.0, -2.0, 3.0], device=device, requires_grad=True)
    b = autodiff.tensor([4.0, 5.0, 6.0], device=device, requires_grad=True)
    return a, b


def test_a_saved_input_is_the_input_itself(device: str) -> None:
    a, b = _leaves(device)
    node = (a * b).grad_fn
    assert _saved_names(node) == ["_raw_saved_other", "_raw_saved_self", "_saved_other",
                                  "_saved_self"]
    assert node._saved_self is a and node._saved_other is b


def test_a_saved_output_is_rebuilt_around_the_node(device: str) -> None:
    a, _ = _leaves(device)
    y = autodiff.exp(a)
    result = y.grad_fn._saved_result
    assert result is not y and result.equal(y)
    assert result.grad_fn is y.grad_fn and result.requires_grad
    assert _saved_names(y.grad_fn) == ["_raw_saved_result", "_saved_result"]


def test_a_tensor_saved_for_one_gradient_only_is_none_without_it(device: str) -> None:
    a, _ = _leaves(device)
    constant = autodiff.tensor([1.0, 2.0, 3.0], device=device)
    node = (a * constant).grad_fn
    # PyTorch keeps `self` only for other's gradient, which nobody needs here.
    assert node._saved_self is None and node._saved_other is constant


def test_a_number_operand_is_saved_as_a_wrapped_tensor(device: str) -> None:
    a, _ = _leaves(device)
    for number, dtype in ((2, autodiff.int64), (2.5, autodiff.float64),
                          (True, autodiff.bool)):
        node = (a * number).grad_fn
        assert node._saved_self is None
        other = node._saved_other
        assert other.dtype == dtype and other.shape == () and other.item() == number


def test_arguments_keep_their_python_types(device: str) -> None:
    a, _ = _leaves(device)
    matrix = a.reshape(1, 3)
    assert (a ** 2).grad_fn._saved_exponent == 2
    assert type((a ** 2).grad_fn._saved_exponent) is int
    node = matrix.sum(dim=1, keepdim=True).grad_fn
    assert node._saved_dim == (1,) and node._saved_keepdim is True
    assert node._saved_self_sym_sizes == (1, 3)
    assert matrix.sum().grad_fn._saved_self_sym_sizes == (1, 3)
    assert matrix.unsqueeze(0).grad_fn._saved_dim == 0
    assert matrix.permute(1, 0).grad_fn._saved_dims == (1, 0)
    assert (a + a).grad_fn._saved_alpha == 1
    assert autodiff.add(a, a, alpha=3).grad_fn._saved_alpha == 3
    assert a.clamp(min=0).grad_fn._saved_min == 0
    assert autodiff.nn.functional.gelu(a).grad_fn._saved_approximate == "none"


def test_a_class_shows_only_its_own_fields(device: str) -> None:
    a, _ = _leaves(device)
    matrix = a.reshape(1, 3)
    # TBackward0 derives from TransposeBackward0's class, without its dim0/dim1.
    node = matrix.t().grad_fn
    assert node.name() == "TBackward0" and _saved_names(node) == []
    with pytest.raises(AttributeError, match="has no attribute '_saved_dim0'"):
        node._saved_dim0  # noqa: B018
    assert _saved_names(autodiff.neg(a).grad_fn) == []


def test_freed_tensors_raise_and_arguments_stay(device: str) -> None:
    a, _ = _leaves(device)
    y = a ** 2
    node = y.grad_fn
    raw = node._raw_saved_self
    y.sum().backward()
    with pytest.raises(RuntimeError) as error:
        node._saved_self  # noqa: B018
    assert str(error.value) == FREED
    assert node._saved_exponent == 2  # PyTorch frees tensors only
    with pytest.raises(RuntimeError) as error:
        raw.register_hooks(lambda x: x, lambda x: x)
    assert str(error.value) == HOOKS_FREED
    with pytest.raises(RuntimeError) as error:
        node._raw_saved_self.unpack()
    assert str(error.value) == FREED


def test_retain_graph_keeps_them(device: str) -> None:
    a, _ = _leaves(device)
    y = a.exp()
    y.sum().backward(retain_graph=True)
    assert y.grad_fn._saved_result.equal(y)


def test_each_read_unpacks_through_the_hooks(device: str) -> None:
    a, _ = _leaves(device)
    unpacked = []

    def unpack(packed: autodiff.Tensor) -> autodiff.Tensor:
        unpacked.append(packed)
        return packed

    with autodiff.autograd.graph.saved_tensors_hooks(lambda x: x, unpack):
        y = a * a
    first, second = y.grad_fn._saved_self, y.grad_fn._saved_self
    assert len(unpacked) == 2 and first.equal(a) and second.equal(a)


def test_raw_saved_tensor_register_hooks(device: str) -> None:
    a, b = _leaves(device)
    y = a * b
    raw = y.grad_fn._raw_saved_self
    assert raw.unpack() is a and raw.data is a and raw.unpack_hook is None
    calls = []

    def pack(x: autodiff.Tensor) -> tuple[str, autodiff.Tensor]:
        calls.append("pack")
        assert not x.requires_grad  # the hook sees it detached, as in PyTorch
        return ("packed", x * 2)

    def unpack(packed: tuple[str, autodiff.Tensor]) -> autodiff.Tensor:
        calls.append("unpack")
        return packed[1]

    raw.register_hooks(pack, unpack)
    assert calls == ["pack"] and raw.data[0] == "packed" and raw.unpack_hook is unpack
    assert y.grad_fn._saved_self.equal(a * 2)
    y.sum().backward()
    # b's gradient came from the unpacked (doubled) self.
    assert b.grad.tolist() == [2.0, -4.0, 6.0]
    assert a.grad.tolist() == [4.0, 5.0, 6.0]


def test_register_hooks_refusals(device: str) -> None:
    a, b = _leaves(device)
    raw = (a * b).grad_fn._raw_saved_self
    raw.register_hooks(lambda x: x, lambda x: x)
    with pytest.raises(RuntimeError) as error:
        raw.register_hooks(lambda x: x, lambda x: x)
    assert str(error.value) == HOOKS_TWICE
    with autodiff.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x):
        packed = (a * b).grad_fn._raw_saved_self
    with pytest.raises(RuntimeError) as error:
        packed.register_hooks(lambda x: x, lambda x: x)
    assert str(error.value) == HOOKS_TWICE
    none = (a * 2).grad_fn._raw_saved_self
    with pytest.raises(RuntimeError) as error:
        none.register_hooks(lambda x: x, lambda x: x)
    assert str(error.value) == ("Calling register_hooks on a saved tensor with value None is "
                                "forbidden")
    with pytest.raises(TypeError, match=r"^register_hooks\(\): incompatible function "
                                        "arguments"):
        (a * b).grad_fn._raw_saved_self.register_hooks(lambda x: x)


def test_linear_saves_what_addmm_and_mm_save(device: str) -> None:
    layer = autodiff.nn.Linear(4, 3).to(device)
    x = autodiff.randn(2, 4, device=device)
    node = layer(x).grad_fn
    assert node.name() == "AddmmBackward0"
    assert node._saved_mat1 is x and node._saved_mat2 is None  # x needs no gradient
    assert node._saved_mat1_sym_sizes == (2, 4) and node._saved_mat1_sym_strides == ()
    assert node._saved_mat2_sym_sizes == (4, 3) and node._saved_mat2_sym_strides == (1, 4)
    assert node._saved_alpha == 1 and node._saved_beta == 1
    vector = layer(autodiff.randn(4, device=device)).grad_fn
    assert vector.name() == "ViewBackward0" and vector._saved_self_sym_sizes == (1, 3)


@pytest.mark.parametrize("training", [False, True])
def test_rrelu_saves_its_bounds_mode_and_noise(device: str, training: bool) -> None:
    # (The op-table comparison with PyTorch cannot check these: the noise is random there, and
    # uninitialized in evaluation.)
    a, _ = _leaves(device)
    out = autodiff.nn.functional.rrelu(a, 0.1, 0.6, training=training)
    node = out.grad_fn
    assert _saved_names(node) == ["_raw_saved_noise", "_raw_saved_self", "_saved_lower",
                                  "_saved_noise", "_saved_self", "_saved_training",
                                  "_saved_upper"]
    assert (node._saved_lower, node._saved_upper, node._saved_training) == (0.1, 0.6, training)
    assert node._saved_self is a
    if not training:
        assert node._saved_noise is None
    else:  # 1 where the input is positive, the slope drawn for each negative element
        noise = node._saved_noise.tolist()
        assert noise[0] == noise[2] == 1.0 and 0.1 <= noise[1] <= 0.6
        assert out.tolist()[1] == -2.0 * noise[1]
    in_place = autodiff.nn.functional.rrelu(a.clone(), 0.1, 0.6, training=training, inplace=True)
    node = in_place.grad_fn
    assert node.name() == "RreluWithNoiseBackward1"
    assert "_saved_result" in _saved_names(node) and "_saved_self" not in _saved_names(node)
    assert node._saved_result.tolist() == in_place.tolist()
    assert node._saved_training is training
