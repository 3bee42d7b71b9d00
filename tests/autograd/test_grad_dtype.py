"""Tensor.grad_dtype: a leaf's allowed `.grad` dtype (its own by default, None for any). The
engine casts what it accumulates (and what autograd.grad returns for the leaf) to it, and
assigning `.grad` of another dtype is refused, with PyTorch's messages."""

import pytest

import autodiff
from autodiff import autograd

_MISMATCH = (
    "The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can "
    "set the tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. "
    "Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break "
    "downstream systems that assume they match."
)


def test_default_is_the_tensors_dtype(device):
    assert autodiff.ones(3, device=device, requires_grad=True).grad_dtype is autodiff.float32
    assert autodiff.ones(3, dtype=autodiff.int64, device=device).grad_dtype is autodiff.int64


def test_leaf_only():
    leaf = autodiff.ones(3, requires_grad=True)
    for tensor in (leaf * 2, leaf[:2]):
        with pytest.raises(RuntimeError, match=r"^grad_dtype can only be accessed on leaf "
                                               r"tensors\.$"):
            _ = tensor.grad_dtype
        with pytest.raises(RuntimeError, match=r"^grad_dtype can only be set on leaf "
                                               r"tensors\.$"):
            tensor.grad_dtype = autodiff.float64
    # The type is checked first, as in PyTorch.
    with pytest.raises(RuntimeError, match=r"^grad_dtype must be a torch\.dtype or None, but "
                                           r"got str$"):
        (leaf * 2).grad_dtype = "float64"


def test_set_and_read():
    leaf = autodiff.ones(3, requires_grad=True)
    leaf.grad_dtype = autodiff.float64
    assert leaf.grad_dtype is autodiff.float64
    leaf.grad_dtype = None
    assert leaf.grad_dtype is None
    with pytest.raises(RuntimeError, match=r"^grad_dtype must be a torch\.dtype or None, but "
                                           r"got int$"):
        leaf.grad_dtype = 3
    assert leaf.grad_dtype is None


def test_backward_casts_into_grad(device):
    leaf = autodiff.ones(3, device=device, requires_grad=True)
    leaf.grad_dtype = autodiff.float64
    (leaf * 2).sum().backward()
    assert leaf.grad.dtype is autodiff.float64 and leaf.grad.tolist() == [2.0, 2.0, 2.0]
    (leaf * 2).sum().backward()
    assert leaf.grad.dtype is autodiff.float64 and leaf.grad.tolist() == [4.0, 4.0, 4.0]


def test_set_after_the_graph_is_recorded_and_seen_by_hooks_and_autograd_grad():
    leaf = autodiff.ones(3, requires_grad=True)
    out = (leaf * 2).sum()
    leaf.grad_dtype = autodiff.float16
    seen = []
    leaf.register_hook(lambda grad: seen.append(grad.dtype))
    (grad,) = autograd.grad(out, leaf)
    assert grad.dtype is autodiff.float16 and seen == [autodiff.float16]


def test_none_keeps_the_incoming_dtype():
    leaf = autodiff.ones(3, requires_grad=True)
    autograd.backward([leaf], [autodiff.ones(3, dtype=autodiff.float64)])
    assert leaf.grad.dtype is autodiff.float32  # the default: cast to the leaf's dtype
    leaf = autodiff.ones(3, requires_grad=True)
    leaf.grad_dtype = None
    autograd.backward([leaf], [autodiff.ones(3, dtype=autodiff.float64)])
    assert leaf.grad.dtype is autodiff.float64


class _Double(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        return grad.double()


@pytest.mark.parametrize("grad_dtype, expected", [
    ("unset", autodiff.float32), (None, autodiff.float64), (autodiff.float16, autodiff.float16),
])
def test_custom_function_gradient(grad_dtype, expected):
    leaf = autodiff.ones(3, requires_grad=True)
    if grad_dtype != "unset":
        leaf.grad_dtype = grad_dtype
    _Double.apply(leaf).sum().backward()
    assert leaf.grad.dtype is expected


@pytest.mark.parametrize("dtype, name", [
    (autodiff.float64, "double"), (autodiff.int64, "long int"), (autodiff.bool, "bool"),
    (autodiff.complex64, "c10::complex<float>"), (autodiff.bfloat16, "c10::BFloat16"),
])
def test_assigning_another_dtype_is_refused(dtype, name):
    leaf = autodiff.ones(3, requires_grad=True)
    message = (f"attempting to assign a gradient with dtype '{name}' to a tensor with "
               f"grad_dtype 'Float'. {_MISMATCH}")
    with pytest.raises(RuntimeError) as error:
        leaf.grad = autodiff.ones(3, dtype=dtype)
    assert str(error.value) == message and leaf.grad is None
    leaf.grad_dtype = None
    leaf.grad = autodiff.ones(3, dtype=dtype)
    assert leaf.grad.dtype is dtype


def test_assigning_another_size_is_refused():
    leaf = autodiff.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError) as error:
        leaf.grad = autodiff.ones(2)
    assert str(error.value) == ("attempting to assign a gradient of size '[2]' to a tensor of "
                                "size '[3]'. Please ensure that the gradient and the tensor are "
                                "the same size")


def test_changing_it_under_an_existing_grad():
    leaf = autodiff.ones(3, requires_grad=True)
    leaf.grad_dtype = autodiff.float64
    leaf.grad = autodiff.ones(3, dtype=autodiff.float64)
    with pytest.raises(RuntimeError) as error:
        leaf.grad_dtype = autodiff.float16
    assert str(error.value) == (
        "Cannot set grad_dtype to 'Half' because there is already a gradient with dtype "
        "'double'. Please clear the gradient (.grad = None) before changing grad_dtype, or "
        "ensure the new grad_dtype matches the existing gradient's dtype.")
    assert leaf.grad_dtype is autodiff.float64
    leaf.grad_dtype = None  # any dtype: always allowed
    leaf.grad = None
    leaf.grad_dtype = autodiff.float16
    assert leaf.grad_dtype is autodiff.float16


def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    for lib in (torch, autodiff):
        leaf = lib.ones(3, requires_grad=True)
        leaf.grad_dtype = lib.float64
        (leaf * 2).sum().backward()
        assert str(leaf.grad.dtype).split(".")[-1] == "float64"
    messages = []
    for lib in (torch, autodiff):
        leaf = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as error:
            leaf.grad = lib.ones(3, dtype=lib.float64)
        messages.append(str(error.value))
        with pytest.raises(RuntimeError) as error:
            _ = (leaf * 2).grad_dtype
        messages.append(str(error.value))
    assert messages[:2] == messages[2:]
