"""optim.swa_utils: AveragedModel (SWA running mean, EMA, per-tensor and multi-tensor rules,
buffers averaged or followed), update_bn and SWALR's annealing, with asserted values and,
where PyTorch is installed, the same scenario run by PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff


def _model(lib: Any) -> Any:
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3), lib.nn.Linear(3, 1))
    with lib.no_grad():
        for index, parameter in enumerate(model.parameters()):
            parameter.copy_(lib.arange(parameter.numel(), dtype=lib.float32)
                            .reshape(parameter.shape) * 0.1 - 0.1 * index)
    return model


def averaging(lib: Any) -> list[Any]:
    swa = lib.optim.swa_utils
    model = _model(lib)
    averaged = {
        "swa": swa.AveragedModel(model),
        "ema": swa.AveragedModel(model, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9)),
        "ema one by one": swa.AveragedModel(model, avg_fn=swa.get_ema_avg_fn(0.9)),
        "swa buffers": swa.AveragedModel(model, use_buffers=True),
    }
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05)
    scheduler = swa.SWALR(optimizer, swa_lr=0.01, anneal_epochs=3, anneal_strategy="linear")
    data = [lib.arange(8, dtype=lib.float32).reshape(4, 2) * s - 1 for s in (0.5, 1.0, -0.3)]
    lrs = []
    for batch in data:
        optimizer.zero_grad()
        model(batch).pow(2).mean().backward()
        optimizer.step()
        for average in averaged.values():
            average.update_parameters(model)
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
    swa.update_bn(data, averaged["swa"])
    out = [lrs, averaged["swa"](data[0]).detach().numpy()]
    for average in averaged.values():
        out.append({name: value.detach().numpy() for name, value in
                    average.state_dict().items()})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return np.asarray(value, dtype=np.float64)


def test_averaging_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    expected, actual = _plain(averaging(torch)), _plain(averaging(autodiff))

    def check(e: Any, a: Any) -> None:
        if isinstance(e, dict):
            assert list(e) == list(a)
            for key in e:
                check(e[key], a[key])
        elif isinstance(e, list):
            assert len(e) == len(a)
            for x, y in zip(e, a):
                check(x, y)
        else:
            np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)

    check(expected, actual)


def test_swa_running_mean_and_swalr() -> None:
    swa = autodiff.optim.swa_utils
    model = autodiff.nn.Linear(1, 1, bias=False)
    averaged = swa.AveragedModel(model)
    assert list(averaged.state_dict()) == ["n_averaged", "module.weight"]
    for value in (1.0, 2.0, 6.0):
        with autodiff.no_grad():
            model.weight.fill_(value)
        averaged.update_parameters(model)
    assert averaged.module.weight.item() == pytest.approx(3.0)
    assert averaged.n_averaged.item() == 3
    optimizer = autodiff.optim.SGD(model.parameters(), lr=1.0)
    scheduler = swa.SWALR(optimizer, swa_lr=0.1, anneal_epochs=2, anneal_strategy="linear")
    seen = [scheduler.get_last_lr()[0]]
    for _ in range(3):
        optimizer.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    assert seen == pytest.approx([1.0, 0.55, 0.1, 0.1])


def test_errors() -> None:
    swa = autodiff.optim.swa_utils
    optimizer = autodiff.optim.SGD(autodiff.nn.Linear(1, 1).parameters(), lr=1.0)
    with pytest.raises(ValueError, match=r"anneal_strategy must be one of 'cos' or 'linear', "
                       "instead got step"):
        swa.SWALR(optimizer, 0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        swa.SWALR(optimizer, 0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match=r"Invalid decay value 2 provided. Please provide a "
                       r"value in \[0,1\] range."):
        swa.get_ema_avg_fn(2)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa.AveragedModel(autodiff.nn.Linear(1, 1), avg_fn=swa.get_swa_avg_fn(),
                          multi_avg_fn=swa.get_swa_multi_avg_fn())
