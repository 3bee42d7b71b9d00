"""debug_unwrap, functionalize, rearrange and replace_all_batch_norm_modules_ (torch.func's),
against PyTorch where installed."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.func import (
    debug_unwrap,
    functionalize,
    rearrange,
    replace_all_batch_norm_modules_,
    vmap,
)


def _np(x: autodiff.Tensor) -> np.ndarray:
    return np.array(x.tolist()).reshape(tuple(x.shape))


def test_debug_unwrap() -> None:
    x = autodiff.randn(3, 4)
    seen = []
    vmap(lambda a: seen.append(debug_unwrap(a)) or a)(x)
    assert tuple(seen[0].shape) == (3, 4) and not seen[0]._batched
    assert debug_unwrap(x) is x


def test_functionalize() -> None:
    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        y = x.clone()
        y.add_(1)
        x.mul_(2)
        return x.view(-1)

    x = autodiff.ones(2, 2)
    out = functionalize(f)(x)
    np.testing.assert_array_equal(_np(x), np.full((2, 2), 2.0))  # the input mutation stays
    np.testing.assert_array_equal(_np(out), np.full(4, 2.0))
    copy = functionalize(f, remove="mutations_and_views")(x)
    copy.add_(1)  # no output aliases an input
    np.testing.assert_array_equal(_np(x), np.full((2, 2), 4.0))
    with pytest.raises(RuntimeError, match="received invalid argument for remove=bad"):
        functionalize(f, remove="bad")


@pytest.mark.parametrize(("pattern", "lengths"), [
    ("b (h w) c -> b h w c", {"h": 2}),
    ("b h w c -> b (c h w)", {}),
    ("... c -> c ...", {}),
    ("b c (h w) -> (b h) c w", {"w": 3}),
    ("a b c d -> d c b a", {}),
])
def test_rearrange_against_torch(pattern: str, lengths: dict[str, int]) -> None:
    shape = {"b h w c -> b (c h w)": (2, 3, 4, 5), "b c (h w) -> (b h) c w": (2, 3, 6)}.get(
        pattern, (2, 6, 5) if "(h w)" in pattern else (2, 3, 4, 5))
    x = autodiff.randn(*shape)
    ours = rearrange(x, pattern, **lengths)
    torch = pytest.importorskip("torch")
    theirs = torch.func.rearrange(torch.tensor(_np(x)), pattern, **lengths)
    np.testing.assert_array_equal(_np(ours), theirs.numpy())


def test_rearrange_list_and_errors() -> None:
    parts = [autodiff.randn(2, 3) for _ in range(4)]
    out = rearrange(parts, "n a b -> a (n b)")
    assert tuple(out.shape) == (2, 12)
    with pytest.raises(ValueError):
        rearrange(parts[0], "a b -> a c")


def test_replace_all_batch_norm_modules_() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.BatchNorm1d(4)))
    assert replace_all_batch_norm_modules_(model) is model
    for module in (model[1], model[2][0]):
        assert module.running_mean is None and module.running_var is None
        assert module.num_batches_tracked is None and not module.track_running_stats
    out = model(autodiff.randn(5, 3))
    assert tuple(out.shape) == (5, 4)
