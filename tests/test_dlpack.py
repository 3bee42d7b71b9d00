"""Zero-copy interop: DLPack both ways, from_numpy, as_tensor, asarray, frombuffer, __array__.

"Shares memory" is shown by writing through one object and reading through the other, on every
device (cuda in ci/gpu.sh's run)."""

from __future__ import annotations

import array
import re
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.utils import dlpack

from .helpers import raises


class _Native:
    """The array library of a device: how to make an array there, read it and import a tensor."""

    def __init__(self, device: str) -> None:
        self.device = device
        kind = device.split(":")[0]
        if kind == "cpu":
            self.make = lambda values: np.array(values, dtype=np.float32)
            self.read = lambda native: np.asarray(native).tolist()
            self.import_ = np.from_dlpack
        elif kind == "cuda":
            cupy = pytest.importorskip("cupy")
            index = autodiff.zeros(1, device=device).device.index

            def make(values: Any) -> Any:
                with cupy.cuda.Device(index):
                    return cupy.array(values, dtype=cupy.float32)

            self.make = make
            self.read = lambda native: cupy.asnumpy(native).tolist()
            self.import_ = cupy.from_dlpack
        else:
            xp = pytest.importorskip("array_api_strict")
            native_device = autodiff.zeros(1, device=device)._backend.native_device
            self.make = lambda values: xp.asarray(values, dtype=xp.float32, device=native_device)
            self.read = lambda native: np.asarray(native._array).tolist()
            self.import_ = lambda tensor: xp.from_dlpack(tensor, device=native_device)


def test_from_dlpack_shares_memory_with_the_devices_library(device: str) -> None:
    native = _Native(device)
    values = native.make([1.0, 2.0, 3.0, 4.0])
    tensor = autodiff.from_dlpack(values)
    assert tensor.device == autodiff.zeros(1, device=device).device
    assert tensor.dtype is autodiff.float32
    tensor[0] = 10.0  # write through the tensor ...
    assert native.read(values)[0] == 10.0  # ... read through the library's array
    values[1] = 20.0
    assert tensor.tolist() == [10.0, 20.0, 3.0, 4.0]
    # The other way: the library imports the tensor.
    imported = native.import_(tensor)
    imported[2] = 30.0
    assert tensor.tolist() == [10.0, 20.0, 30.0, 4.0]
    tensor[3] = 40.0
    assert native.read(imported) == [10.0, 20.0, 30.0, 40.0]
    # And autodiff imports its own tensors without a copy, on their device.
    again = autodiff.from_dlpack(tensor)
    assert again.device == tensor.device
    again[0] = -1.0
    assert tensor[0].item() == -1.0


def test_from_dlpack_copy_and_device(device: str) -> None:
    source = autodiff.arange(4.0, device=device)
    copied = autodiff.from_dlpack(source, copy=True)
    copied[0] = 9.0
    assert source[0].item() == 0.0
    moved = autodiff.from_dlpack(np.arange(3.0), device=device)
    assert moved.device == source.device and moved.tolist() == [0.0, 1.0, 2.0]
    if source.device.type != "cpu":
        with raises(ValueError, f"cannot move DLPack tensor from device cpu to {source.device} "
                                "without copying. Set copy=None or copy=True."):
            autodiff.from_dlpack(np.arange(3.0), device=device, copy=False)


def test_numpy_torch_and_legacy_capsules() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.arange(4.0)
    ours = autodiff.from_dlpack(theirs)
    ours[0] = 5.0
    assert theirs[0].item() == 5.0
    back = torch.from_dlpack(ours)
    back[1] = 6.0
    assert ours.tolist() == [5.0, 6.0, 2.0, 3.0]
    # Legacy capsules, both ways.
    ours_from_capsule = autodiff.from_dlpack(torch.utils.dlpack.to_dlpack(theirs))
    ours_from_capsule[2] = 7.0
    assert theirs[2].item() == 7.0
    theirs_from_capsule = torch.from_dlpack(dlpack.to_dlpack(ours))
    theirs_from_capsule[3] = 8.0
    assert ours.tolist() == [5.0, 6.0, 7.0, 8.0]
    assert ours.__dlpack_device__() == theirs.__dlpack_device__()
    assert type(ours.__dlpack_device__()[0]).__name__ == "DLDeviceType"


def test_a_legacy_capsule_is_consumed_once_and_writable() -> None:
    values = np.arange(6, dtype=np.int64).reshape(2, 3)[:, 1:]  # strided
    capsule = values.__dlpack__()  # NumPy's unversioned capsule
    tensor = autodiff.from_dlpack(capsule)
    assert tensor.shape == (2, 2) and tensor.dtype is autodiff.int64
    tensor[1, 1] = 50
    assert values[1, 1] == 50
    message = ("from_dlpack received an invalid capsule. Note that DLTensor capsules can be "
               "consumed only once, so you might have already constructed a tensor from it once.")
    with raises(RuntimeError, message):
        autodiff.from_dlpack(capsule)
    with raises(RuntimeError, message):
        autodiff.from_dlpack([1, 2])
    with raises(AssertionError, "device and copy kwargs not supported when ext_tensor is already "
                                "a DLPack capsule."):
        autodiff.from_dlpack(np.ones(2).__dlpack__(), copy=True)
    del tensor
    import gc

    gc.collect()  # the producer's deleter runs; the array stays NumPy's
    assert values.tolist() == [[1, 2], [4, 50]]


def test_export_refusals_are_pytorchs() -> None:
    leaf = autodiff.ones(2, requires_grad=True)
    message = "Can't export tensors that require gradient, use tensor.detach()"
    with raises(BufferError, message):
        leaf.__dlpack__()
    with raises(BufferError, message):
        np.from_dlpack(leaf)
    with raises(TypeError, "stream must be ``int`` or ``none``"):
        autodiff.ones(2).__dlpack__(stream="x")
    with raises(AssertionError, "stream should be None on cpu."):
        autodiff.ones(2).__dlpack__(stream=5)
    assert dlpack.to_dlpack(leaf) is not None  # the legacy function does not check, as torch's
    with pytest.raises(TypeError, match="autodiff has no dtype for uint32"):
        autodiff.from_dlpack(np.ones(2, dtype=np.uint32))


# ----------------------------------------------------------------------------- from_numpy
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                   "float32", "float64"])
def test_from_numpy_shares_memory(dtype: str) -> None:
    values = np.zeros((2, 3), dtype=dtype)[:, ::2]  # strided views are shared too
    tensor = autodiff.from_numpy(values)
    assert tensor.dtype is getattr(autodiff, dtype) and tensor.shape == (2, 2)
    tensor[1, 1] = 1
    assert values[1, 1] == 1
    values[0, 0] = 1
    assert tensor[0, 0].item() == 1


_NOT_SUPPORTED = ("float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                  "uint8, and bool")


@pytest.mark.parametrize("value, error, message", [
    ([1, 2], TypeError, "expected np.ndarray (got list)"),
    (np.float32(3), TypeError, "expected np.ndarray (got numpy.float32)"),
    (np.zeros(2, dtype=object), TypeError,
     f"can't convert np.ndarray of type numpy.object_. The only supported types are: "
     f"{_NOT_SUPPORTED}."),
    (np.zeros(2, dtype=np.uint32), TypeError,
     f"can't convert np.ndarray of type numpy.uint32. The only supported types are: "
     f"{_NOT_SUPPORTED}."),
    (np.arange(4.0)[::-1], ValueError,
     "At least one stride in the given numpy array is negative, and tensors with negative "
     "strides are not currently supported. (You can probably work around this by making a copy "
     "of your array  with array.copy().) "),
    (np.zeros(2, dtype=">f4"), ValueError,
     "given numpy array has byte order different from the native byte order. Conversion between "
     "byte orders is currently not supported."),
])
def test_from_numpy_refuses_as_torch_does(value: Any, error: type[Exception],
                                          message: str) -> None:
    with raises(error, message):
        autodiff.from_numpy(value)
    torch = pytest.importorskip("torch")
    if "uint32" in message:
        torch.from_numpy(value)  # PyTorch has this dtype; autodiff has not
    else:
        with raises(error, message.replace(_NOT_SUPPORTED, "float64, float32, float16, "
                                           "complex64, complex128, int64, int32, int16, int8, "
                                           "uint64, uint32, uint16, uint8, and bool")):
            torch.from_numpy(value)


def test_from_numpy_of_complex_arrays() -> None:
    values = np.array([1 + 2j, 3j], dtype=np.complex64)
    tensor = autodiff.from_numpy(values)
    assert tensor.dtype is autodiff.complex64 and tensor.tolist() == [1 + 2j, 3j]
    values[0] = 0  # shares memory, as for real dtypes
    assert tensor.tolist()[0] == 0


def test_from_numpy_of_a_read_only_array_warns() -> None:
    values = np.arange(3.0)
    values.flags.writeable = False
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):
        tensor = autodiff.from_numpy(values)
    assert tensor.tolist() == [0.0, 1.0, 2.0]


# ----------------------------------------------------------------------------- as_tensor / asarray
def test_as_tensor_shares_when_it_can() -> None:
    values = np.arange(3.0)
    shared = autodiff.as_tensor(values)
    shared[0] = 7.0
    assert values[0] == 7.0
    converted = autodiff.as_tensor(values, dtype=autodiff.float32)
    converted[1] = 8.0
    assert values[1] == 1.0
    tensor = autodiff.ones(2, requires_grad=True)
    assert autodiff.as_tensor(tensor) is tensor
    assert autodiff.as_tensor(tensor, dtype=autodiff.float32, device="cpu") is tensor
    as_double = autodiff.as_tensor(tensor, dtype=autodiff.float64)
    assert as_double.grad_fn.name() == "ToCopyBackward0"
    assert autodiff.as_tensor([1, 2]).dtype is autodiff.int64
    assert autodiff.as_tensor(np.float32(2)).dtype is autodiff.float32


def test_asarray_copies_only_when_needed() -> None:
    values = np.arange(3.0)
    shared = autodiff.asarray(values)
    shared[0] = 5.0
    assert values[0] == 5.0
    copied = autodiff.asarray(values, copy=True)
    copied[1] = 6.0
    assert values[1] == 1.0
    with raises(ValueError, "can't alias tensor with dtype 'Double' into dtype 'Float'."):
        autodiff.asarray(values, dtype=autodiff.float32, copy=False)
    with raises(ValueError, "can't alias tensor with dtype 'Float' into dtype 'Long'."):
        autodiff.asarray(autodiff.ones(2), dtype=autodiff.int64, copy=False)
    with raises(ValueError, "can't alias tensor from device 'cpu' to 'strict:1'."):
        autodiff.asarray(autodiff.ones(2), device="strict:1", copy=False)
    with raises(ValueError, "can't alias arbitrary sequence into a tensor."):
        autodiff.asarray([1, 2], copy=False)
    with raises(RuntimeError, "can't alias NumPy scalars. Either remove copy=False or transform "
                              "it in a ndarray. "):
        autodiff.asarray(np.float64(3.0), copy=False)
    scalar = autodiff.asarray(np.float64(0.5))
    assert scalar.dtype is autodiff.float64 and scalar.shape == ()
    assert autodiff.asarray(3.5).dtype is autodiff.float32
    assert autodiff.asarray([1, 2]).dtype is autodiff.int64
    buffer = bytearray(8)
    viewed = autodiff.asarray(buffer)  # a buffer, read as the default dtype
    assert viewed.dtype is autodiff.float32 and viewed.shape == (2,)
    viewed[0] = 1.0
    assert buffer[:4] == b"\x00\x00\x80?"
    as_bytes = autodiff.asarray(bytearray(b"ab"), dtype=autodiff.uint8)
    assert as_bytes.tolist() == [97, 98]
    capsule_tensor = autodiff.asarray(np.arange(3).__dlpack__())
    assert capsule_tensor.tolist() == [0, 1, 2]
    on_strict = autodiff.asarray([1.0, 2.0], device="strict:1")
    assert on_strict.device == autodiff.device("strict", 1)


def test_asarray_requires_grad_as_torch_handles_it() -> None:
    leaf = autodiff.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="unspecified requires_grad now defaults to "
                                         "obj.requires_grad"):
        assert autodiff.asarray(leaf) is leaf
    middle = leaf * 2
    detached = autodiff.asarray(middle, requires_grad=False)
    assert detached is not middle and not detached.requires_grad and middle.requires_grad
    detached[0] = 3.0
    assert middle[0].item() == 3.0  # still the same memory
    kept = autodiff.asarray(middle, requires_grad=True)
    assert kept is middle and kept.grad_fn.name() == "MulBackward0"
    converted = autodiff.asarray(middle, dtype=autodiff.float64, requires_grad=True)
    assert converted.grad_fn.name() == "ToCopyBackward0"
    cloned = autodiff.asarray(middle, copy=True, requires_grad=True)
    assert cloned.grad_fn.name() == "CloneBackward0"
    plain = autodiff.ones(2)
    assert autodiff.asarray(plain, requires_grad=True) is plain and plain.requires_grad
    fresh = autodiff.asarray(np.ones(2), requires_grad=True)
    assert fresh.requires_grad and fresh.is_leaf
    with raises(RuntimeError, "Only Tensors of floating point and complex dtype can require "
                              "gradients"):
        autodiff.asarray([1, 2], requires_grad=True)


def test_asarray_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for make in (lambda lib: lib.ones(2, requires_grad=True),
                 lambda lib: lib.ones(2, requires_grad=True) * 2,
                 lambda lib: lib.ones(2)):
        for kwargs in ({"requires_grad": False}, {"requires_grad": True},
                       {"dtype": "float64", "requires_grad": False}, {"copy": True},
                       {"copy": True, "requires_grad": True}):
            ours_in, theirs_in = make(autodiff), make(torch)
            options = dict(kwargs)
            if "dtype" in options:
                ours = autodiff.asarray(ours_in, **{**options, "dtype": autodiff.float64})
                theirs = torch.asarray(theirs_in, **{**options, "dtype": torch.float64})
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ours = autodiff.asarray(ours_in, **options)
                    theirs = torch.asarray(theirs_in, **options)
            assert (ours is ours_in) == (theirs is theirs_in), kwargs
            assert ours.requires_grad == theirs.requires_grad, kwargs
            assert ours_in.requires_grad == theirs_in.requires_grad, kwargs
            assert (ours.grad_fn is None) == (theirs.grad_fn is None), kwargs
            if ours.grad_fn is not None:
                assert ours.grad_fn.name() == theirs.grad_fn.name(), kwargs


# ----------------------------------------------------------------------------- frombuffer
def test_frombuffer_shares_memory() -> None:
    buffer = bytearray(16)
    tensor = autodiff.frombuffer(buffer, dtype=autodiff.float32, count=2, offset=4)
    assert tensor.shape == (2,)
    tensor[0] = 1.0
    assert buffer[4:8] == b"\x00\x00\x80?"
    ints = autodiff.frombuffer(array.array("i", [1, 2, 3]), dtype=autodiff.int32)
    assert ints.tolist() == [1, 2, 3]
    with pytest.warns(UserWarning, match="The given buffer is not writable"):
        read_only = autodiff.frombuffer(b"abcd", dtype=autodiff.uint8)
    assert read_only.tolist() == [97, 98, 99, 100]
    assert autodiff.frombuffer(bytearray(8), dtype=autodiff.float32,
                               requires_grad=True).requires_grad


_FROMBUFFER_ERRORS = [
    (bytearray(16), {"dtype": "float32", "offset": 20}, ValueError,
     "offset (20 bytes) must be non-negative and no greater than buffer length (16 bytes) minus 1"),
    (bytearray(16), {"dtype": "float32", "offset": -1}, ValueError,
     "offset (-1 bytes) must be non-negative and no greater than buffer length (16 bytes) minus 1"),
    (bytearray(16), {"dtype": "float32", "count": 10}, ValueError,
     "requested buffer length (10 * 4 bytes) after offset (0 bytes) must not be greater than "
     "actual buffer length (16 bytes)"),
    (bytearray(6), {"dtype": "float32"}, ValueError,
     "buffer length (6 bytes) after offset (0 bytes) must be a multiple of element size (4)"),
    (bytearray(0), {"dtype": "float32"}, ValueError,
     "both buffer length (0) and count (-1) must not be 0"),
    (bytearray(16), {"dtype": "float32", "count": 0}, ValueError,
     "both buffer length (16) and count (0) must not be 0"),
    ([1, 2], {"dtype": "float32"}, ValueError, "object does not implement Python buffer protocol."),
    (memoryview(bytearray(8))[::2], {"dtype": "uint8"}, RuntimeError,
     "could not retrieve buffer from object"),
    (bytearray(4), {}, TypeError, 'frombuffer() missing 1 required positional arguments: "dtype"'),
    (bytearray(4), {"dtype": "uint8", "requires_grad": True}, RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
]


@pytest.mark.parametrize("buffer, kwargs, error, message", _FROMBUFFER_ERRORS)
def test_frombuffer_refuses_as_torch_does(buffer: Any, kwargs: dict[str, Any],
                                          error: type[Exception], message: str) -> None:
    ours = {k: getattr(autodiff, v) if k == "dtype" else v for k, v in kwargs.items()}
    with raises(error, message):
        autodiff.frombuffer(buffer, **ours)
    torch = pytest.importorskip("torch")
    theirs = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    with raises(error, message):
        torch.frombuffer(buffer, **theirs)


# ----------------------------------------------------------------------------- __array__
def test_array_protocol() -> None:
    tensor = autodiff.arange(3.0)
    shared = np.asarray(tensor)
    shared[0] = 5.0
    assert tensor[0].item() == 5.0
    copied = np.array(tensor)
    copied[1] = 6.0
    assert tensor[1].item() == 1.0
    assert np.asarray(tensor, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        np.array(tensor, dtype=np.float64, copy=False)
    with raises(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use "
                              "tensor.detach().numpy() instead."):
        np.asarray(autodiff.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match=re.escape("can't convert strict:1 device type tensor to "
                                                  "numpy")):
        np.asarray(autodiff.ones(2, device="strict:1"))
