"""pin_memory=True: batches in page-locked host memory when there is a CUDA device (CuPy's
pinned allocator), a warning and plain batches without one; CUDA tensors made in a worker are
refused."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import backends
from autodiff.utils.data import DataLoader, TensorDataset
from autodiff.utils.data._utils.pin_memory import pin_memory

pytestmark = pytest.mark.usefixtures("deadline")

needs_cuda = pytest.mark.skipif(backends.cuda_device_count() == 0, reason="no CUDA device")


@needs_cuda
@pytest.mark.parametrize("num_workers", [0, 2])
def test_batches_are_pinned(num_workers: int) -> None:
    cuda = backends.get_backend("cuda")
    x = autodiff.arange(24.0).reshape(12, 2)
    dataset = TensorDataset(x, autodiff.arange(12))
    for features, labels in DataLoader(dataset, batch_size=4, pin_memory=True,
                                       num_workers=num_workers):
        assert features.device.type == "cpu" and cuda.is_pinned_host(features._data)
        assert cuda.is_pinned_host(labels._data)
        on_gpu = features.to("cuda")
        np.testing.assert_array_equal(on_gpu.cpu().numpy(), features.numpy())
    assert not cuda.is_pinned_host(x._data)


@needs_cuda
def test_pin_memory_keeps_structure_and_refuses_device_tensors() -> None:
    batch = {"a": [autodiff.ones(2), "s"], "b": (autodiff.zeros(1),)}
    pinned = pin_memory(batch)
    cuda = backends.get_backend("cuda")
    assert pinned["a"][1] == "s" and isinstance(pinned["b"], tuple)
    assert cuda.is_pinned_host(pinned["a"][0]._data)
    with pytest.raises(RuntimeError, match=r"cannot pin 'torch\.cuda\.FloatTensor' only dense CPU "
                       "tensors can be pinned"):
        pin_memory(autodiff.ones(2, device="cuda"))


class MakesCudaTensors:
    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> autodiff.Tensor:
        return autodiff.ones(2, device="cuda")


@needs_cuda
def test_cuda_tensors_from_spawned_workers_are_refused() -> None:
    loader = DataLoader(MakesCudaTensors(), batch_size=None, num_workers=1,
                        multiprocessing_context="spawn")
    with pytest.raises(RuntimeError, match="returned a tensor on cuda:0"):
        list(loader)


def test_without_cuda_pinning_is_refused_by_the_backend() -> None:
    if backends.cuda_device_count() > 0:
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="cpu devices have no page-locked host memory"):
        backends.get_backend("cpu").pinned_host_copy(np.ones(2))
    assert not backends.get_backend("cpu").is_pinned_host(np.ones(2))
