"""Convolution against PyTorch: conv1d/2d/3d and conv_transpose1d/2d/3d (values, gradients,
second derivatives, node names), their argument errors (type and wording, nothing changed), the
Conv and ConvTranspose layers (parameters, default initialisation, padding modes, reprs, state
dicts, output_size), and one column buffer per convolution in backward."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F
from tests.compare import compare, same_error
from tests.op_db.conv import conv_ref


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


RNG = np.random.default_rng(0)

CASES = [
    ("conv2d", dict(), [(2, 3, 6, 5), (4, 3, 3, 2), (4,)]),
    ("conv2d", dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1)), [(2, 3, 7, 6), (4, 3, 3, 2)]),
    ("conv2d", dict(padding="same", groups=2), [(2, 4, 5, 6), (6, 2, 2, 3), (6,)]),
    ("conv2d", dict(padding="valid", groups=4), [(1, 4, 5, 5), (8, 1, 3, 3)]),
    ("conv2d", dict(padding=1), [(3, 5, 5), (2, 3, 3, 3)]),
    ("conv1d", dict(stride=2, padding=1), [(2, 3, 9), (4, 3, 3), (4,)]),
    ("conv1d", dict(), [(3, 9), (4, 3, 3)]),
    ("conv3d", dict(padding=(1, 0, 1), stride=(1, 2, 1)), [(2, 2, 4, 5, 4), (3, 2, 2, 3, 2)]),
    ("conv_transpose2d", dict(stride=2, padding=1, output_padding=1),
     [(2, 3, 4, 5), (3, 4, 3, 3), (4,)]),
    ("conv_transpose2d", dict(stride=(1, 2), groups=3, dilation=2, output_padding=(1, 1)),
     [(2, 6, 4, 5), (6, 2, 3, 2)]),
    ("conv_transpose1d", dict(stride=3), [(2, 3, 4), (3, 2, 2)]),
    ("conv_transpose1d", dict(padding=1), [(3, 4), (3, 2, 3)]),
    ("conv_transpose3d", dict(stride=2, padding=1), [(1, 2, 3, 3, 3), (2, 2, 3, 3, 3)]),
]


@pytest.mark.parametrize(("name", "options", "shapes"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch_to_second_order(torch: Any, name: str, options: dict[str, Any],
                                       shapes: list[tuple[int, ...]]) -> None:
    inputs = [RNG.standard_normal(shape) for shape in shapes]
    with warnings.catch_warnings():  # padding='same' with an even kernel warns on both sides
        warnings.simplefilter("ignore", UserWarning)
        compare(torch, lambda *t: getattr(F, name)(*t, **options),
                lambda *t: getattr(torch.nn.functional, name)(*t, **options), inputs,
                second_order=True)


def test_same_padding_with_an_even_kernel_warns_as_pytorch() -> None:
    with pytest.warns(UserWarning, match="Using padding='same' with even kernel lengths"):
        F.conv2d(autodiff.ones(1, 1, 4, 4), autodiff.ones(1, 1, 2, 2), padding="same")


def test_integer_convolution_stays_integer() -> None:
    x = autodiff.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
    w = autodiff.ones(4, 3, 3, 3, dtype=autodiff.int64)
    out = F.conv2d(x, w)
    assert out.dtype is autodiff.int64
    np.testing.assert_array_equal(out.numpy(), conv_ref(x.numpy(), w.numpy()))


def test_transposed_convolution_is_the_adjoint(device: str) -> None:
    """<conv(x), y> == <x, conv_transpose(y)> for the same weight and geometry."""
    x = autodiff.randn(2, 4, 7, 6, dtype=autodiff.float64, device=device)
    w = autodiff.randn(6, 2, 3, 2, dtype=autodiff.float64, device=device)
    options = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    y = F.conv2d(x, w, **options)
    r = autodiff.randn(*y.shape, dtype=autodiff.float64, device=device)
    back = F.conv_transpose2d(r, w, output_padding=(0, 0), **options)
    assert back.shape == x.shape
    assert math.isclose((y * r).sum().item(), (x * back).sum().item(), rel_tol=1e-10)


ERRORS = [
    ("conv2d", [(2, 4, 8, 8), (8, 3, 3, 3)], {}),
    ("conv2d", [(2, 3, 2, 2), (8, 3, 3, 3)], {}),
    ("conv2d", [(2, 3, 8), (8, 3, 3, 3)], {}),
    ("conv2d", [(2, 3, 8, 8, 8), (8, 3, 3, 3)], {}),
    ("conv2d", [(3, 8, 8), (8, 3, 3)], {}),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(groups=2)),
    ("conv2d", [(2, 6, 8, 8), (9, 3, 3, 3)], dict(groups=2)),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3), (7,)], {}),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3), (8, 1)], {}),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(stride=0)),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(padding=-1)),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(dilation=(1, 0))),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(dilation=(-1, 1))),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(stride=0, padding=-1, groups=0)),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(stride=0, padding=-1)),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(groups=0)),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(stride=2, padding="same")),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(padding="foo")),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(stride=(1, 2, 3))),
    ("conv2d", [(2, 3, 8, 8), (8, 3, 3, 3)], dict(padding=(1, 2, 3))),
    ("conv2d", [(2, 3, 8, 8), (0, 3, 3, 3)], {}),
    ("conv2d", [(2, 3, 4, 4), (4, 3, 3, 3)], dict(dilation=2)),
    ("conv1d", [(2, 3, 2), (4, 3, 3)], {}),
    ("conv3d", [(2, 3, 2, 5, 5), (4, 3, 3, 3, 3)], {}),
    ("conv_transpose2d", [(2, 3, 5, 5), (3, 4, 3, 3)], dict(output_padding=1)),
    ("conv_transpose2d", [(2, 3, 5, 5), (3, 4, 3, 3)], dict(stride=2, output_padding=2)),
    ("conv_transpose2d", [(2, 3, 5, 5), (4, 4, 3, 3)], {}),
    ("conv_transpose2d", [(2, 3, 5, 5), (3, 4, 3, 3)], dict(padding="same")),
    ("conv_transpose2d", [(2, 4, 5, 5), (4, 2, 3, 3), (3,)], dict(groups=2)),
    ("conv_transpose2d", [(2, 3, 5), (3, 4, 3, 3)], {}),
    ("conv_transpose2d", [(2, 3, 5, 5), (3, 4, 3, 3)], dict(output_padding=(1, 2, 3))),
]


@pytest.mark.parametrize(("name", "shapes", "options"), ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_argument_errors_match_torch(torch: Any, name: str, shapes: list[tuple[int, ...]],
                                     options: dict[str, Any]) -> None:
    arrays = [RNG.standard_normal(shape) for shape in shapes]
    ours = [autodiff.tensor(a, requires_grad=True) for a in arrays]
    same_error(lambda: getattr(F, name)(*ours, **options),
               lambda: getattr(torch.nn.functional, name)(
                   *[torch.tensor(a) for a in arrays], **options))
    for tensor, array in zip(ours, arrays):  # nothing changed, no gradient made
        np.testing.assert_array_equal(tensor.detach().numpy(), array)
        assert tensor.grad is None


@pytest.mark.parametrize(("dtypes", "bias"), [
    (("float64", "float32"), None), (("float32", "float64"), None),
    (("float32", "float16"), None), (("int64", "float32"), None),
    (("float64", "float64"), "float32"), (("bool", "bool"), None),
])
def test_dtype_errors_match_torch(torch: Any, dtypes: tuple[str, str], bias: str | None) -> None:
    x, w = np.ones((2, 3, 4, 4)), np.ones((4, 3, 3, 3))
    b = np.ones(4) if bias else None

    def call(library: Any, function: Any) -> Any:
        return function(library.tensor(x, dtype=getattr(library, dtypes[0])),
                        library.tensor(w, dtype=getattr(library, dtypes[1])),
                        None if b is None else library.tensor(b, dtype=getattr(library, bias)))

    same_error(lambda: call(autodiff, F.conv2d), lambda: call(torch, torch.nn.functional.conv2d))


# ----------------------------------------------------------------------------- layers
LAYERS = [
    ("Conv2d", (3, 4, 3), {}),
    ("Conv2d", (4, 6, (2, 3)), dict(stride=2, padding=1, dilation=(1, 2), groups=2,
                                    bias=False)),
    ("Conv2d", (3, 4, 3), dict(padding="same", padding_mode="reflect")),
    ("Conv2d", (3, 4, 3), dict(padding=2, padding_mode="circular")),
    ("Conv2d", (3, 4, 3), dict(padding=(1, 2), padding_mode="replicate")),
    ("Conv1d", (3, 4, 3), dict(padding="same", padding_mode="circular", bias=False)),
    ("Conv3d", (2, 3, 2), dict(padding=1, padding_mode="zeros")),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1, dilation=2)),
    ("ConvTranspose1d", (4, 2, 3), dict(groups=2)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=2)),
]
SPATIAL = {"1": (7,), "2": (7, 6), "3": (4, 5, 4)}


@pytest.mark.parametrize(("name", "args", "options"), LAYERS,
                         ids=[f"{layer[0]}-{i}" for i, layer in enumerate(LAYERS)])
def test_layers_match_torch(torch: Any, name: str, args: tuple[Any, ...],
                            options: dict[str, Any]) -> None:
    ours = getattr(nn, name)(*args, **options)
    theirs = getattr(torch.nn, name)(*args, **options)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in ours.state_dict().items():
        assert tuple(value.shape) == tuple(theirs.state_dict()[key].shape)
    with torch.no_grad():
        for key, value in ours.state_dict().items():
            theirs.state_dict()[key].copy_(torch.tensor(value.numpy()))
    x = RNG.standard_normal((2, args[0], *SPATIAL[name[-2]])).astype(np.float32)
    compare(torch, ours, theirs, [x], atol=1e-5, rtol=1e-4)
    for mine, reference in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), atol=1e-4,
                                   rtol=1e-4)


def test_default_initialisation_is_kaiming_uniform_with_a_sqrt5() -> None:
    """Weights and biases are uniform in +-1/sqrt(fan_in) (kaiming_uniform, a=sqrt(5))."""
    autodiff.manual_seed(0)
    layer = nn.Conv2d(8, 16, 3)
    bound = 1 / math.sqrt(8 * 9)
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert weight.shape == (16, 8, 3, 3) and bias.shape == (16,)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert np.abs(bias).max() <= bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.1 * bound
    transposed = nn.ConvTranspose2d(8, 16, 3, groups=2)
    assert tuple(transposed.weight.shape) == (8, 8, 3, 3)
    fan_in = 8 * 9  # PyTorch's fan_in of a transposed weight: its dim 1 times the kernel
    assert np.abs(transposed.weight.detach().numpy()).max() <= 1 / math.sqrt(fan_in)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: nn.Conv2d(3, 4, 3, groups=0), "groups must be a positive integer"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), "out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(3, 4, 3, padding="full"),
     "Invalid padding string 'full', should be one of {'same', 'valid'}"),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"),
     "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got "
     "padding_mode='mirror'"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"),
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
])
def test_layer_argument_errors(call: Any, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        call()
    assert str(raised.value) == message


def test_conv_transpose_output_size(torch: Any) -> None:
    ours = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    x = RNG.standard_normal((1, 3, 4, 5)).astype(np.float32)
    out = ours(autodiff.tensor(x), output_size=[8, 10])
    assert tuple(out.shape) == (1, 2, 8, 10)
    assert tuple(theirs(torch.tensor(x), output_size=[8, 10]).shape) == (1, 2, 8, 10)
    same_error(lambda: ours(autodiff.tensor(x), output_size=[9, 11]),
               lambda: theirs(torch.tensor(x), output_size=[9, 11]))
    same_error(lambda: ours(autodiff.tensor(x), output_size=[8]),
               lambda: theirs(torch.tensor(x), output_size=[8]))


def test_layers_on_every_device(device: str) -> None:
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
                          nn.ConvTranspose2d(3, 2, 2, stride=2)).to(device)
    x = autodiff.randn(2, 2, 4, 4, device=device)
    out = model(x)
    assert tuple(out.shape) == (2, 2, 8, 8) and out.device == x.device
    out.sum().backward()
    assert all(p.grad is not None and p.grad.device == x.device for p in model.parameters())


def test_backward_keeps_one_column_buffer(device: str) -> None:
    """The weight gradient recomputes the columns and the input gradient makes its own, each
    freed before the next: backward holds no column buffer from forward."""
    x = autodiff.randn(2, 3, 6, 6, device=device, requires_grad=True)
    w = autodiff.randn(4, 3, 3, 3, device=device, requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    node = out.grad_fn
    assert node.name() == "ConvolutionBackward0"
    saved = [t.shape for t in node.saved_tensors]
    assert saved == [x.shape, w.shape]  # the input and the weight only, as PyTorch saves
    assert not any(hasattr(node, name) for name in ("columns", "cols"))


def test_convert_conv_weight_memory_format() -> None:
    """nn.utils.convert_conv{2,3}d_weight_memory_format: the weights of the matching
    convolutions (nested too) in the memory format, in place; other modules untouched."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.ConvTranspose2d(4, 2, 3)),
                          nn.Conv3d(1, 1, 2), nn.Linear(2, 2))
    weight = model[0].weight
    values = weight.detach().clone()
    assert nn.utils.convert_conv2d_weight_memory_format(model, autodiff.channels_last) is model
    assert model[0].weight is weight and isinstance(weight, nn.Parameter)
    assert weight.stride() == (27, 1, 9, 3) and autodiff.equal(weight, values)
    assert model[1][0].weight.is_contiguous(memory_format=autodiff.channels_last)
    assert model[2].weight.is_contiguous()
    nn.utils.convert_conv3d_weight_memory_format(model, autodiff.channels_last_3d)
    assert model[2].weight.is_contiguous(memory_format=autodiff.channels_last_3d)
