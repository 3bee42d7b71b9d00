"""GradScaler: the sequence of scales and growth trackers for a pattern of overflowing steps is
PyTorch's; unscaled gradients, skipped steps, state dicts, pickling and the error paths."""

from __future__ import annotations

import pickle
import re
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff

# 1 where the step's gradient holds an inf (or NaN), 0 where it is clean.
PATTERN = [0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]


def _scale_sequence(lib: Any, pattern: list[int], **options: Any) -> dict[str, Any]:
    param = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
    optimizer = lib.optim.SGD([param], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **options)
    scales, trackers, params, grads = [], [], [], []
    for step, bad in enumerate(pattern):
        optimizer.zero_grad()
        loss = (param * lib.tensor([1.0, 2.0, float(step + 1)])).sum()
        scaler.scale(loss).backward()
        if bad:
            with lib.no_grad():
                param.grad[1] = float("nan") if step % 2 else float("inf")
        scaler.unscale_(optimizer)
        grads.append(param.grad.clone().numpy())
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler.state_dict()["_growth_tracker"])
        params.append(param.detach().clone().numpy())
    return {"scales": scales, "trackers": trackers, "params": params, "grads": grads,
            "state": scaler.state_dict()}


@pytest.mark.parametrize("options", [
    {"init_scale": 2.0**16, "growth_interval": 3},
    {"init_scale": 1024.0, "growth_factor": 3.0, "backoff_factor": 0.25, "growth_interval": 2},
    # growth past float32's range is refused; gradients overflow by themselves there too
    {"init_scale": 2.0**124, "growth_interval": 1},
])
def test_scale_sequence_matches_pytorch(options: dict[str, Any]) -> None:
    ours = _scale_sequence(autodiff, PATTERN, **options)
    # Without PyTorch: the rule written out (back off on overflow, grow after an interval).
    scale, tracker = options["init_scale"], 0
    for step, bad in enumerate(PATTERN):
        with np.errstate(over="ignore"):
            largest_gradient = np.float32(scale) * np.float32(max(2, step + 1))
        if bad or not np.isfinite(largest_gradient):
            scale, tracker = scale * options.get("backoff_factor", 0.5), 0
        else:
            tracker += 1
            if tracker == options["growth_interval"]:
                with np.errstate(over="ignore"):
                    grown = np.float32(scale * options.get("growth_factor", 2.0))
                scale = float(grown) if np.isfinite(grown) else scale
                tracker = 0
        assert ours["scales"][step] == pytest.approx(float(np.float32(scale)), rel=1e-7)
        assert ours["trackers"][step] == tracker
    torch = pytest.importorskip("torch")
    theirs = _scale_sequence(torch, PATTERN, **options)
    assert ours["scales"] == theirs["scales"]
    assert ours["trackers"] == theirs["trackers"]
    assert ours["state"] == theirs["state"]
    for mine, reference in zip(ours["params"], theirs["params"]):  # SGD's own rounding
        np.testing.assert_allclose(mine, reference, rtol=1e-6)
    for mine, reference in zip(ours["grads"], theirs["grads"]):
        np.testing.assert_array_equal(mine, reference)


def test_a_step_with_an_overflow_is_skipped() -> None:
    param = autodiff.nn.Parameter(autodiff.tensor([1.0, 2.0]))
    optimizer = autodiff.optim.SGD([param], lr=1.0)
    scaler = autodiff.amp.GradScaler("cpu", init_scale=8.0)
    scaler.scale(param.sum()).backward()
    assert param.grad.tolist() == [8.0, 8.0]
    param.grad[0] = float("inf")
    assert scaler.step(optimizer) is None
    assert param.tolist() == [1.0, 2.0]
    assert param.grad.tolist()[1] == 1.0  # unscaled all the same
    scaler.update()
    assert scaler.get_scale() == 4.0
    optimizer.zero_grad()
    scaler.scale(param.sum()).backward()
    scaler.step(optimizer)
    scaler.update()
    assert param.tolist() == [0.0, 1.0]


def test_low_precision_gradients() -> None:
    param = autodiff.nn.Parameter(autodiff.tensor([1.0, 2.0], dtype=autodiff.bfloat16))
    optimizer = autodiff.optim.SGD([param], lr=1.0)
    scaler = autodiff.amp.GradScaler("cpu", init_scale=4.0)
    scaler.scale(param.sum()).backward()
    scaler.unscale_(optimizer)
    assert param.grad.dtype is autodiff.bfloat16 and param.grad.tolist() == [1.0, 1.0]
    half = autodiff.nn.Parameter(autodiff.tensor([1.0], dtype=autodiff.float16))
    optimizer = autodiff.optim.SGD([half], lr=1.0)
    scaler.scale(half.sum()).backward()
    with pytest.raises(ValueError, match=re.escape("Attempting to unscale FP16 gradients.")):
        scaler.unscale_(optimizer)


def test_misuse_raises_pytorch_errors() -> None:
    param = autodiff.nn.Parameter(autodiff.tensor([1.0]))
    optimizer = autodiff.optim.SGD([param], lr=1.0)
    scaler = autodiff.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match="Attempted unscale_ but _scale is None"):
        scaler.unscale_(optimizer)
    scaler.scale(param.sum()).backward()
    scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this "
                       r"optimizer since the last update\(\)."):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last "
                       r"update\(\)."):
        scaler.step(optimizer)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step\(\)."):
        scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(optimizer, closure=lambda: None)
    with pytest.raises(AssertionError, match=re.escape("The growth factor must be > 1.0.")):
        autodiff.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(AssertionError, match=re.escape("The backoff factor must be < 1.0.")):
        autodiff.amp.GradScaler("cpu", backoff_factor=1.0)
    with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
        scaler.scale([1.0])


def test_state_dict_pickle_and_setters() -> None:
    scaler = autodiff.amp.GradScaler("cpu", init_scale=4.0, growth_interval=7)
    assert scaler.state_dict() == {"scale": 4.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                   "growth_interval": 7, "_growth_tracker": 0}
    outputs = scaler.scale([autodiff.ones(2), (autodiff.ones(1),)])
    assert outputs[0].tolist() == [4.0, 4.0] and outputs[1][0].tolist() == [4.0]
    other = autodiff.amp.GradScaler("cpu")
    other.load_state_dict({**scaler.state_dict(), "scale": 32.0, "_growth_tracker": 3})
    assert other.get_scale() == 32.0 and other.state_dict()["_growth_tracker"] == 3
    restored = pickle.loads(pickle.dumps(other))
    assert restored.state_dict() == other.state_dict()
    other.set_growth_factor(4.0)
    other.set_backoff_factor(0.25)
    other.set_growth_interval(9)
    assert (other.get_growth_factor(), other.get_backoff_factor(),
            other.get_growth_interval()) == (4.0, 0.25, 9)
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        other.load_state_dict({})
    scaler.update(2.0)
    assert scaler.get_scale() == 2.0
    scaler.update(autodiff.tensor([0.5]))
    assert scaler.get_scale() == 0.5


def test_disabled_scaler_passes_through() -> None:
    scaler = autodiff.amp.GradScaler("cpu", enabled=False)
    loss = autodiff.ones(())
    assert scaler.scale(loss) is loss
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    assert not scaler.is_enabled()
    if not autodiff.cuda.is_available():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert not autodiff.amp.GradScaler().is_enabled()
        assert "CUDA is not available.  Disabling." in str(caught[0].message)
