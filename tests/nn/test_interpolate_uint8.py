"""interpolate of uint8 images (bilinear, bicubic, lanczos; with and without antialias): PyTorch's
fixed-point path, bit for bit, on every device; against PyTorch over a sweep of sizes where it is
installed, against its stored outputs where it is not. Also the same-size dims every resize
copies, and the dtypes PyTorch refuses, by the name of the kernel that refuses them."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.nn import functional as F
from tests.compare import same_error

STORED = json.loads((pathlib.Path(__file__).resolve().parents[1] / "data" / "torch" /
                     "interpolate_uint8.json").read_text())


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


def _options(case: dict[str, Any]) -> dict[str, Any]:
    options = {key: tuple(value) for key, value in case["options"].items()}
    return dict(mode=case["mode"], antialias=case["antialias"],
                align_corners=case["align_corners"], **options)


@pytest.mark.parametrize("case", STORED["cases"],
                         ids=[f"{c['mode']}-aa{int(c['antialias'])}-ac{int(c['align_corners'])}"
                              for c in STORED["cases"]])
def test_matches_stored_torch_outputs(device: str, case: dict[str, Any]) -> None:
    x = autodiff.tensor(np.array(STORED["input"], dtype=np.uint8).reshape(STORED["input_shape"]),
                        device=device)
    out = F.interpolate(x, **_options(case))
    assert out.dtype is autodiff.uint8 and str(out.device) == device
    assert list(out.shape) == case["shape"]
    assert out.flatten().tolist() == case["values"]


# Input sizes (odd, 1-pixel edges) x output sizes (down, up, to 1) and scale factors.
SIZES = [(1, 1), (1, 6), (5, 1), (7, 9), (13, 8), (32, 31)]
OUTPUTS = [{"size": (1, 1)}, {"size": (1, 6)}, {"size": (4, 1)}, {"size": (3, 5)},
           {"size": (9, 17)}, {"size": (64, 3)}, {"scale_factor": (0.37, 1.25)},
           {"scale_factor": (1.7, 0.3)}, {"scale_factor": 2.0}, {"scale_factor": (1.05, 0.99)}]
MODES = [("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True),
         ("lanczos", True)]


def _output_size(spatial: tuple[int, ...], options: dict[str, Any]) -> tuple[int, ...]:
    if "size" in options:
        return tuple(options["size"])
    factors = options["scale_factor"]
    factors = factors if isinstance(factors, tuple) else (factors,) * len(spatial)
    return tuple(int(size * factor) for size, factor in zip(spatial, factors))


def _torch_resize(torch: Any, x: np.ndarray, **options: Any) -> np.ndarray:
    """PyTorch's resize, one channel at a time where its kernels fail: a 3-channel 1x1 output
    trips an internal assert of its AVX kernel, and its generic kernel (more than 4 channels)
    copies the first row into every row of a one-pixel-wide output."""
    height, width = _output_size(x.shape[2:], options)
    channels = x.shape[1]
    if (channels == 3 and (height, width) == (1, 1)) or (channels > 4 and width == 1):
        return np.concatenate([torch.nn.functional.interpolate(
            torch.from_numpy(x[:, c:c + 1]), **options).numpy() for c in range(channels)], 1)
    return torch.nn.functional.interpolate(torch.from_numpy(x), **options).numpy()


@pytest.mark.parametrize(("mode", "antialias", "align_corners"),
                         [(mode, antialias, corners) for mode, antialias in MODES
                          for corners in (False, True) if not (mode == "lanczos" and corners)])
def test_sweep_matches_torch(torch: Any, device: str, mode: str, antialias: bool,
                             align_corners: bool) -> None:
    rng = np.random.default_rng(sum(map(ord, mode)) + 2 * antialias + align_corners)
    for case, (height, width) in enumerate(SIZES):
        for output in OUTPUTS:
            channels = (1, 3, 4)[case % 3]
            x = rng.integers(0, 256, (2, channels, height, width), dtype=np.uint8)
            x[..., ::3, :] = 255  # hard edges, where rounding and clamping show
            options = dict(mode=mode, antialias=antialias, align_corners=align_corners,
                           **output)
            if min(_output_size((height, width), options)) == 0:
                continue
            reference = _torch_resize(torch, x, **options)
            ours = F.interpolate(autodiff.tensor(x, device=device), **options)
            assert ours.dtype is autodiff.uint8
            np.testing.assert_array_equal(ours.cpu().numpy(), reference,
                                          err_msg=f"{(height, width)} {output} C={channels}")


@pytest.mark.parametrize("channels", [1, 3, 4, 5])
def test_channels_and_channels_last_input(torch: Any, device: str, channels: int) -> None:
    # A channels-last input (a permuted view here, channels_last in PyTorch) gives the same
    # values; 5 channels take PyTorch's generic kernel, up to 4 its AVX one: both agree.
    rng = np.random.default_rng(channels)
    nhwc = rng.integers(0, 256, (2, 11, 6, channels), dtype=np.uint8)
    ours = autodiff.tensor(nhwc, device=device).permute(0, 3, 1, 2)
    theirs = torch.from_numpy(nhwc).permute(0, 3, 1, 2)
    assert theirs.is_contiguous(memory_format=torch.channels_last)
    for mode, antialias in MODES:
        for size in ((5, 4), (17, 9)):
            options = dict(size=size, mode=mode, antialias=antialias)
            expected = torch.nn.functional.interpolate(theirs, **options).numpy()
            np.testing.assert_array_equal(F.interpolate(ours, **options).cpu().numpy(),
                                          expected)
            np.testing.assert_array_equal(
                F.interpolate(ours.contiguous(), **options).cpu().numpy(), expected)
            np.testing.assert_array_equal(
                torch.nn.functional.interpolate(theirs.contiguous(), **options).numpy(),
                expected)


def test_where_torch_fails_each_channel_is_its_own_resize(device: str) -> None:
    # PyTorch 2.13 asserts on a 3-channel 1x1 output, and with more than 4 channels writes
    # the first row into every row of a one-pixel-wide output. Here every channel is resized
    # as it is alone.
    rng = np.random.default_rng(5)
    for channels, size in ((3, (1, 1)), (5, (4, 1)), (6, (9, 1))):
        x = rng.integers(0, 256, (1, channels, 7, 3), dtype=np.uint8)
        for mode, antialias in MODES:
            whole = F.interpolate(autodiff.tensor(x, device=device), size=size, mode=mode,
                                  antialias=antialias).cpu().numpy()
            alone = [F.interpolate(autodiff.tensor(x[:, c:c + 1], device=device), size=size,
                                   mode=mode, antialias=antialias).cpu().numpy()
                     for c in range(channels)]
            np.testing.assert_array_equal(whole, np.concatenate(alone, 1))
            assert len({tuple(whole[0, 0, :, 0])}) == 1
    column = np.arange(0, 250, 50, dtype=np.uint8).reshape(1, 1, 5, 1).repeat(5, 1)
    out = F.interpolate(autodiff.tensor(column, device=device), size=(3, 1), mode="bilinear")
    assert out[0, :, :, 0].tolist() == [[17, 100, 183]] * 5  # not one row copied


def test_uint8_is_not_differentiable(device: str) -> None:
    x = autodiff.ones(1, 3, 4, 4, dtype=autodiff.uint8, device=device)
    out = F.interpolate(x, size=(6, 2), mode="bicubic", antialias=True)
    assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        x.requires_grad_()


def test_an_unchanged_size_is_copied_whatever_the_scale(torch: Any, device: str) -> None:
    # PyTorch copies a dim whose size a scale factor leaves as it is (linear modes and every
    # antialiased one): 1.05 * 10 is 10.
    x = np.random.default_rng(0).standard_normal((1, 2, 10, 12))
    for options in (dict(mode="bilinear"), dict(mode="bilinear", antialias=True),
                    dict(mode="bicubic", antialias=True), dict(mode="lanczos", antialias=True)):
        ours = F.interpolate(autodiff.tensor(x, device=device), scale_factor=(1.05, 0.5),
                             **options)
        theirs = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=(1.05, 0.5),
                                                 **options)
        np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    line = np.random.default_rng(1).standard_normal((2, 3, 9))
    np.testing.assert_array_equal(
        F.interpolate(autodiff.tensor(line, device=device), scale_factor=1.05,
                      mode="linear").cpu().numpy(), line)


def test_an_unchanged_size_is_copied_gradient(device: str) -> None:
    # PyTorch's antialiased backward resamples such a dim with the 1/1.05 scale that its
    # forward does not use (its gradcheck fails); here the gradient is the copy's.
    x = autodiff.tensor(np.random.default_rng(2).standard_normal((1, 1, 6, 5)),
                        requires_grad=True, device=device)
    autodiff.autograd.gradcheck(
        lambda t: F.interpolate(t, scale_factor=1.05, mode="bilinear", antialias=True), (x,))
    F.interpolate(x, scale_factor=1.05, mode="bicubic", antialias=True).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.ones((1, 1, 6, 5)))


REFUSALS = [
    # integer antialiased resizes, unless every size stays (then PyTorch copies)
    ("int32", (1, 3, 8, 9), dict(size=(5, 4), mode="bilinear", antialias=True)),
    ("int64", (1, 3, 8, 9), dict(size=(8, 4), mode="bicubic", antialias=True)),
    ("int16", (1, 3, 8, 9), dict(size=(5, 4), mode="lanczos", antialias=True)),
    ("int32", (1, 3, 8, 9), dict(size=(8, 9), mode="bilinear", antialias=True)),
    ("bool", (1, 3, 8, 9), dict(size=(8, 9), mode="bicubic", antialias=True)),
    ("int8", (1, 3, 8, 9), dict(size=(8, 9), mode="lanczos", antialias=True)),
    # the kernel PyTorch picks by output size decides the name in the error
    ("int32", (1, 2, 8, 9), dict(size=(100, 40), mode="bilinear")),
    ("int32", (1, 2, 8, 9), dict(size=(60, 40), mode="bilinear")),
    ("int32", (1, 3, 8, 9), dict(size=(100, 40), mode="nearest")),
    ("int32", (1, 3, 8, 9), dict(size=(100, 40), mode="nearest-exact")),
    ("int32", (1, 3, 8, 9), dict(size=(8, 9), mode="bilinear")),
    ("int32", (1, 3, 8, 9), dict(size=(8, 9), mode="bicubic")),
    ("uint8", (1, 2, 4), dict(size=6, mode="linear")),
    ("uint8", (1, 2, 3, 4, 4), dict(size=(2, 3, 3), mode="trilinear")),
    ("uint8", (1, 3, 8, 9), dict(size=(5, 4), mode="area")),
]


@pytest.mark.parametrize(("dtype", "shape", "options"), REFUSALS)
def test_dtypes_torch_refuses_or_copies(torch: Any, device: str, dtype: str,
                                        shape: tuple[int, ...], options: dict[str, Any]) -> None:
    x = np.random.default_rng(3).integers(0, 2 if dtype == "bool" else 100, shape)
    ours = autodiff.tensor(x, device=device).to(getattr(autodiff, dtype))
    theirs = torch.from_numpy(x).to(getattr(torch, dtype))
    try:
        expected = torch.nn.functional.interpolate(theirs, **options)
    except NotImplementedError:
        same_error(lambda: F.interpolate(ours, **options),
                   lambda: torch.nn.functional.interpolate(theirs, **options))
        return
    out = F.interpolate(ours, **options)
    assert out.dtype is getattr(autodiff, dtype)
    np.testing.assert_array_equal(out.cpu().numpy(), expected.numpy())


def test_single_thread_bilinear_of_three_channels_names_its_kernel(torch: Any) -> None:
    # With one thread PyTorch takes its channels-last bilinear kernel for 3 channels at any size.
    x = np.zeros((1, 3, 8, 9), dtype=np.int32)
    threads = torch.get_num_threads(), autodiff.get_num_threads()
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            autodiff.set_num_threads(count)
            same_error(lambda: F.interpolate(autodiff.tensor(x), size=(100, 40), mode="bilinear"),
                       lambda: torch.nn.functional.interpolate(torch.from_numpy(x),
                                                               size=(100, 40), mode="bilinear"))
    finally:
        torch.set_num_threads(threads[0])
        autodiff.set_num_threads(threads[1])


@pytest.mark.parametrize(("rank", "mode"), [(4, "nearest"), (4, "bilinear"), (5, "nearest"),
                                           (5, "trilinear")])
def test_channels_last_kernel_names_in_refusals(torch: Any, rank: int, mode: str) -> None:
    # A channels-last input with more than 3 channels takes PyTorch's channels-last kernel
    # (and its name) at any output size; a contiguous one its generic kernel.
    shape = (1, 4, *[3] * (rank - 2))
    size = [70] * (rank - 2)
    channels_last = (0, *range(2, rank), 1)
    ours = autodiff.zeros(tuple(shape[d] for d in channels_last), dtype=autodiff.int32).permute(
        0, rank - 1, *range(1, rank - 1))
    theirs = torch.zeros(shape, dtype=torch.int32).contiguous(
        memory_format=torch.channels_last if rank == 4 else torch.channels_last_3d)
    same_error(lambda: F.interpolate(ours, size=size, mode=mode),
               lambda: torch.nn.functional.interpolate(theirs, size=size, mode=mode))
    same_error(lambda: F.interpolate(ours.contiguous(), size=size, mode=mode),
               lambda: torch.nn.functional.interpolate(theirs.contiguous(), size=size, mode=mode))
