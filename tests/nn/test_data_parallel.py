"""nn.DataParallel and nn.parallel.data_parallel. Without CUDA GPUs (the test machines) PyTorch's
DataParallel only wraps the module; the split over devices is tested on the strict backend's two
devices, standing in for two GPUs."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import data_parallel as dp


def _model() -> nn.Module:
    autodiff.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


@pytest.fixture
def no_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dp, "available_device_type", lambda: None)


@pytest.fixture
def two_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    """The strict backend's strict:0 and strict:1 as the accelerators."""
    monkeypatch.setattr(dp, "available_device_type", lambda: "strict")
    monkeypatch.setattr(dp, "device_count", lambda device_type: 2)


@pytest.mark.usefixtures("no_accelerator")
def test_without_an_accelerator_the_module_runs_as_it_is() -> None:
    model = _model()
    parallel = nn.DataParallel(model, device_ids=[5], output_device=3, dim=1)
    assert parallel.module is model and parallel.device_ids == []
    # PyTorch returns before setting them.
    assert not hasattr(parallel, "output_device") and not hasattr(parallel, "dim")
    assert list(parallel.state_dict()) == ["module.0.weight", "module.0.bias",
                                           "module.2.weight", "module.2.bias"]
    assert repr(parallel).startswith("DataParallel(\n  (module): Sequential(")
    x = autodiff.randn(5, 3)
    out = parallel(x)
    assert out.equal(model(x))
    out.sum().backward()
    assert model[0].weight.grad is not None
    assert autodiff.nn.parallel.DataParallel is nn.DataParallel


@pytest.mark.usefixtures("no_accelerator")
def test_data_parallel_function_needs_a_device_type() -> None:
    with pytest.raises(RuntimeError, match=r"^device type could not be determined$"):
        autodiff.nn.parallel.data_parallel(_model(), autodiff.randn(2, 3))


def test_the_installed_library_finds_no_accelerator_without_cuda() -> None:
    if autodiff.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    assert dp.available_device_type() is None
    assert nn.DataParallel(_model()).device_ids == []


@pytest.mark.usefixtures("two_devices")
def test_split_over_two_devices_gives_the_whole_batch_result() -> None:
    model = _model().to("strict:0")
    reference = _model().to("strict:0")
    parallel = nn.DataParallel(model)
    assert parallel.device_ids == [0, 1] and parallel.output_device == 0 and parallel.dim == 0
    x = autodiff.randn(6, 3, device="strict:0")
    out = parallel(x)
    expected = reference(x)
    assert out.device == autodiff.device("strict:0")
    np.testing.assert_allclose(np.array(out.tolist()), np.array(expected.tolist()), rtol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        assert ours.grad.device == autodiff.device("strict:0")
        np.testing.assert_allclose(np.array(ours.grad.tolist()),
                                   np.array(theirs.grad.tolist()), rtol=1e-6, atol=1e-7)


@pytest.mark.usefixtures("two_devices")
def test_output_device_and_containers() -> None:
    class Pair(nn.Module):
        def forward(self, x: autodiff.Tensor, *, scale: float) -> dict[str, autodiff.Tensor]:
            return {"double": x * scale, "sum": x.sum()}

    parallel = nn.DataParallel(Pair().to("strict:0"), output_device="strict:1")
    x = autodiff.arange(8.0, device="strict:0").reshape(4, 2)
    with pytest.warns(UserWarning, match="all input tensors were scalars"):
        out = parallel(x, scale=2.0)
    assert out["double"].device == autodiff.device("strict:1")
    assert out["double"].tolist() == (x * 2).tolist()
    assert out["sum"].tolist() == [x[:2].sum().item(), x[2:].sum().item()]


@pytest.mark.usefixtures("two_devices")
def test_parameters_on_another_device_are_refused() -> None:
    parallel = nn.DataParallel(_model(), device_ids=[0, 1])
    with pytest.raises(RuntimeError, match=r"^module must have its parameters and buffers on "
                                           r"device strict:0 \(device_ids\[0\]\) but found one "
                                           r"of them on device: cpu$"):
        parallel(autodiff.randn(2, 3))


@pytest.mark.usefixtures("two_devices")
def test_one_device_moves_the_module_there() -> None:
    model = _model()
    parallel = nn.DataParallel(model, device_ids=[1])
    assert model[0].weight.device == autodiff.device("strict:1")
    out = parallel(autodiff.randn(2, 3))  # the input is moved to device_ids[0]
    assert out.device == autodiff.device("strict:1")
