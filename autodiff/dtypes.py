"""dtypes, `Size`, and PyTorch's type-promotion rules (which differ from NumPy's: an integer
tensor times a Python float is float32, and a 0-d tensor or a Python scalar never widens a
tensor of its own category; a complex operand of lower priority makes a float tensor complex of
the float's own precision)."""

from __future__ import annotations

from typing import Any, ClassVar


class dtype:
    """A tensor element type. Printed as `torch.float32` so reprs match PyTorch's for users who
    `import autodiff as torch`."""

    __slots__ = ("category", "is_floating_point", "is_signed", "itemsize", "name")

    def __init__(self, name: str, category: int, itemsize: int, is_signed: bool) -> None:
        self.name = name
        # 0 bool, 1 integer, 2 floating, 3 complex: PyTorch's promotion categories;
        # 4 quantized, outside promotion
        self.category = category
        self.itemsize = itemsize
        self.is_signed = is_signed
        self.is_floating_point = category == 2

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name  # pickles as the module-level constant of the same name

    @property
    def is_complex(self) -> bool:
        return self.category == 3

    def to_real(self) -> dtype:
        """The dtype of a complex dtype's real and imaginary parts (any other dtype itself)."""
        return _REAL_OF.get(self.name, self)

    def to_complex(self) -> dtype:
        """The complex dtype whose parts are this floating dtype (a complex dtype itself)."""
        if self.category == 3:
            return self
        if self.name not in _COMPLEX_OF:
            raise RuntimeError(f"Unsupported dtype {SCALAR_TYPE_NAMES[self.name]}")
        return BY_NAME[_COMPLEX_OF[self.name]]


bool_ = dtype("bool", 0, 1, False)
uint8 = dtype("uint8", 1, 1, False)
int8 = dtype("int8", 1, 1, True)
int16 = dtype("int16", 1, 2, True)
int32 = dtype("int32", 1, 4, True)
int64 = dtype("int64", 1, 8, True)
float16 = dtype("float16", 2, 2, True)
bfloat16 = dtype("bfloat16", 2, 2, True)
float32 = dtype("float32", 2, 4, True)
float64 = dtype("float64", 2, 8, True)
complex64 = dtype("complex64", 3, 8, True)
complex128 = dtype("complex128", 3, 16, True)

BY_NAME: dict[str, dtype] = {
    d.name: d for d in (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32,
                        float64, complex64, complex128)
}


class QuantizedDtype(dtype):
    """A quantized element type (`torch.qint8`, ...): integers that stand for real numbers
    through a scale and a zero point (`quantized_tensor.py`). It takes no part in promotion and
    has no sign to ask about, as in PyTorch."""

    __slots__ = ("quant_max", "quant_min", "storage_name")

    def __init__(self, name: str, itemsize: int, storage_name: str, quant_min: int,
                 quant_max: int) -> None:
        super().__init__(name, 4, itemsize, quant_min < 0)
        self.storage_name = storage_name  # the dtype of its integer representation
        self.quant_min = quant_min
        self.quant_max = quant_max

    def __getattribute__(self, name: str) -> Any:
        if name == "is_signed":
            raise RuntimeError("isSignedType not supported for quantized types")
        return object.__getattribute__(self, name)


qint8 = QuantizedDtype("qint8", 1, "int8", -128, 127)
quint8 = QuantizedDtype("quint8", 1, "uint8", 0, 255)
qint32 = QuantizedDtype("qint32", 4, "int32", -(2 ** 31), 2 ** 31 - 1)
quint4x2 = QuantizedDtype("quint4x2", 1, "uint8", 0, 15)  # stored one value per byte here
QUANTIZED: dict[str, QuantizedDtype] = {d.name: d for d in (qint8, quint8, qint32, quint4x2)}

_REAL_OF = {"complex64": float32, "complex128": float64}
_COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}
# PyTorch's legacy type names, used in error messages ("[torch.FloatTensor [5, 3]]").
LEGACY_NAMES = {
    "bool": "BoolTensor", "uint8": "ByteTensor", "int8": "CharTensor", "int16": "ShortTensor",
    "int32": "IntTensor", "int64": "LongTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "float32": "FloatTensor", "float64": "DoubleTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor",
}
# PyTorch's short names in messages like "Got: Long".
SCALAR_TYPE_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
    "int64": "Long", "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
    "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
    "qint8": "QInt8", "quint8": "QUInt8", "qint32": "QInt32", "quint4x2": "QUInt4x2",
}
# The C++ type names some of PyTorch's messages print ("expected dtype float ... got double").
CPP_TYPE_NAMES = {
    "bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
    "int32": "int", "int64": "long int", "float16": "c10::Half",
    "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
    "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
}

_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def default_complex() -> dtype:
    """The complex dtype of the default float dtype (complex64 for float32)."""
    return _default_float.to_complex() if _default_float.name in _COMPLEX_OF else complex64


def set_default_dtype(d: dtype) -> None:
    """The dtype of floats made without one: factories, `tensor(1.5)`, `arange(0.5, 2)`, module
    parameters."""
    global _default_float
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the "
                        "default type")
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def to_dtype(value: Any) -> dtype:
    """Accept a dtype, its name ("float32"), or the Python types float/int/bool (as PyTorch
    maps them: float is float64)."""
    if isinstance(value, dtype):
        return value
    if value is float:
        return float64
    if value is int:
        return int64
    if value is bool:
        return bool_
    if value is complex:
        return default_complex()
    if isinstance(value, str) and value in BY_NAME:
        return BY_NAME[value]
    if isinstance(value, str) and value in QUANTIZED:
        return QUANTIZED[value]
    raise TypeError(f"expected a dtype, but got {value!r}")


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both `a` and `b` convert to (PyTorch's promotion lattice)."""
    if a is b:
        return a
    if a.category == 4 or b.category == 4:
        raise RuntimeError("promoteTypes with quantized numbers is not handled yet; figure out "
                           "what the correct rules should be, offending types: "
                           f"{SCALAR_TYPE_NAMES[a.name]} {SCALAR_TYPE_NAMES[b.name]}")
    if a.category != b.category:
        if {a.category, b.category} == {2, 3}:  # complex and float: complex of the wider one
            return BY_NAME[_COMPLEX_OF[max(a.to_real(), b.to_real(),
                                           key=lambda d: d.itemsize).name]]
        return a if a.category > b.category else b
    if a.category == 0:
        return a
    if a.category == 2 and a.itemsize == b.itemsize:  # float16, bfloat16: neither holds both
        return float32
    if a.category >= 2:
        return a if a.itemsize >= b.itemsize else b
    # Integers: an unsigned and a signed type meet in a signed type that holds both.
    if a.is_signed == b.is_signed:
        return a if a.itemsize >= b.itemsize else b
    signed, unsigned = (a, b) if a.is_signed else (b, a)
    if signed.itemsize > unsigned.itemsize:
        return signed
    return {1: int16, 2: int32, 4: int64}.get(unsigned.itemsize, int64)


def scalar_dtype(value: Any) -> dtype:
    """The dtype a Python scalar takes part in promotion with (a 'wrapped number')."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, complex):
        return default_complex()
    return _default_float


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    # PyTorch's combine_categories: a lower-priority operand only matters when its category is
    # higher than everything of higher priority; a complex one makes a float complex of the
    # float's own precision.
    if higher is None:
        return lower
    if lower is None or higher.category == 3:
        return higher
    if lower.category == 3:
        if higher.category != 2:
            return lower
        # bfloat16 has float32's range: PyTorch's toComplexType maps it to complex64.
        return BY_NAME["complex64"] if higher.name == "bfloat16" else higher.to_complex()
    if higher.category == 2:
        return higher
    if higher.category == 0 or lower.category == 2:
        return promote_types(higher, lower)
    return higher


def result_type(*operands: tuple[dtype, int] | dtype | bool | int | float) -> dtype:
    """PyTorch's result type. Tensors are passed as (dtype, ndim); Python scalars as themselves.

    Priority: tensors with dimensions, then 0-d tensors, then Python scalars.
    """
    dimensioned: dtype | None = None
    zero_dim: dtype | None = None
    wrapped: dtype | None = None
    for operand in operands:
        if isinstance(operand, tuple):
            kind, ndim = operand
            if ndim:
                dimensioned = kind if dimensioned is None else promote_types(dimensioned, kind)
            else:
                zero_dim = kind if zero_dim is None else promote_types(zero_dim, kind)
        elif isinstance(operand, dtype):
            dimensioned = operand if dimensioned is None else promote_types(dimensioned, operand)
        else:
            kind = scalar_dtype(operand)
            wrapped = kind if wrapped is None else promote_types(wrapped, kind)
    result = _combine(dimensioned, _combine(zero_dim, wrapped))
    assert result is not None, "result_type needs at least one operand"
    return result


class Size(tuple):
    """A shape: a tuple printed as `torch.Size([2, 3])`. Concatenating, repeating and slicing
    give a Size again (a tuple on either side of `+` too), as in PyTorch."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, count: Any) -> Any:
        result = tuple.__mul__(self, count)
        return result if result is NotImplemented else Size(result)

    __rmul__ = __mul__

    def __getitem__(self, key: Any) -> Any:
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def numel(self) -> int:
        total = 1
        for size in self:
            total *= size
        return total


class finfo:
    """The numerical properties of a floating dtype (of a complex dtype's parts), PyTorch's
    `torch.finfo`: bits, eps, max, min, tiny (= smallest_normal) and resolution. Without a
    dtype, those of the default dtype."""

    __slots__ = ("bits", "dtype", "eps", "max", "min", "resolution", "smallest_normal", "tiny")

    # name: (bits, eps, max, smallest normal, resolution)
    _PROPERTIES: ClassVar[dict[str, tuple[int, float, float, float, float]]] = {
        "float16": (16, 2.0 ** -10, 65504.0, 2.0 ** -14, 1e-3),
        "bfloat16": (16, 2.0 ** -7, (2 - 2.0 ** -7) * 2.0 ** 127, 2.0 ** -126, 1e-2),
        "float32": (32, 2.0 ** -23, (2 - 2.0 ** -23) * 2.0 ** 127, 2.0 ** -126, 1e-6),
        "float64": (64, 2.0 ** -52, (2 - 2.0 ** -52) * 2.0 ** 1023, 2.0 ** -1022, 1e-15),
    }

    def __init__(self, type: dtype | None = None) -> None:
        kind = get_default_dtype() if type is None else type
        if not isinstance(kind, dtype) or kind.category < 2:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        name = kind.to_real().name
        bits, eps, largest, normal, resolution = self._PROPERTIES[name]
        self.bits, self.eps, self.resolution = bits, eps, resolution
        self.max, self.min = largest, -largest
        self.tiny = self.smallest_normal = normal
        self.dtype = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")
