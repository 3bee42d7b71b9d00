"""Tensor reprs, byte-identical to PyTorch's (torch/_tensor_str.py).

The logic follows PyTorch's step by step; only the data access differs. PyTorch walks a tensor
with `self[i]` and formats 0-d tensors one by one; here the array is summarized with slices on its
backend first (so a huge array is never turned into Python values), converted once with
`tolist()`, and the nested Python list is walked instead. The numbers are formatted exactly as
PyTorch formats them: Python's `'{:.{}f}'` / `'{:.{}e}'` on Python floats, which for float16 and
float32 arrays are the exact doubles of the stored values (what both `.item()` and `tolist()`
give).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

from . import dtypes, layouts


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()

_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set options for printing, as `torch.set_printoptions` does.

    A profile ("default", "short", "full"; any other name is ignored, as in PyTorch) is applied
    first and the explicit options override it. `sci_mode` is always assigned, so leaving it out
    resets it to None (automatic), again as in PyTorch.
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments `set_printoptions` accepts."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Change the print options inside a `with` block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """PyTorch's `_Formatter`: one notation and one column width for all elements.

    `values` are the (summarized) elements as flat Python scalars.
    """

    def __init__(self, values: list[Any], floating: bool) -> None:
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        precision = PRINT_OPTS.precision

        if not floating:
            for value in values:
                self.max_width = max(self.max_width, len(f"{value}"))
            return

        # As in PyTorch, only nonzero finite values choose the notation and the width: zeros,
        # inf and nan are padded to it (or overflow it) but never widen it.
        finite = [v for v in values if v != 0 and math.isfinite(v)]
        if not finite:
            return
        # abs, min and max are exact, so doing them on doubles gives PyTorch's numbers.
        largest = max(abs(v) for v in finite)
        smallest = min(abs(v) for v in finite)
        self.int_mode = all(v.is_integer() for v in finite)
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        if self.sci_mode:
            widths = (len(f"{v:.{precision}e}") for v in finite)
        elif self.int_mode:
            # "+ 1" for the "." appended to integer-valued floats (to show they are floats).
            widths = (len(f"{v:.0f}") + 1 for v in finite)
        else:
            widths = (len(f"{v:.{precision}f}") for v in finite)
        self.max_width = max(self.max_width, *widths)

    def width(self) -> int:
        return self.max_width

    def format(self, value: Any) -> str:
        if self.floating_dtype:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if math.isfinite(value):
                    text += "."
            else:
                text = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


class _ComplexFormatter:
    """PyTorch's pair of formatters for complex tensors: one for the real parts and one for the
    imaginary parts, joined as `a+bj` (`_scalar_str` with two formatters)."""

    def __init__(self, values: list[Any]) -> None:
        self.real = _Formatter([v.real for v in values], True)
        self.imag = _Formatter([v.imag for v in values], True)

    def width(self) -> int:
        return self.real.width() + self.imag.width() + 1  # the "j"

    def format(self, value: Any) -> str:
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag


def _summarized_array(array: Any, backend: Any, shape: tuple[int, ...], edgeitems: int) -> Any:
    """PyTorch's `get_summarized_data` for edgeitems > 0: keep the first and last `edgeitems`
    entries along every axis longer than 2 * edgeitems. Slicing axis by axis gives the same
    elements in the same order as PyTorch's row-by-row recursion."""
    for axis, size in enumerate(shape):
        if size > 2 * edgeitems:
            # The trailing Ellipsis: the array API (array-api-strict) refuses an index that
            # names fewer axes than the array has.
            before = (slice(None),) * axis
            head: tuple[Any, ...] = (*before, slice(0, edgeitems), ...)
            tail: tuple[Any, ...] = (*before, slice(size - edgeitems, size), ...)
            array = backend.concat([array[head], array[tail]], axis=axis)
    return array


def _flatten(nested: Any, ndim: int) -> list[Any]:
    if ndim == 0:
        return [nested]
    if ndim == 1:
        return list(nested)
    return [value for row in nested for value in _flatten(row, ndim - 1)]


def _vector_str(values: list[Any], size: int, indent: int, summarize: bool,
                formatter: _Formatter) -> str:
    """One 1-D row, wrapped to the line width. `values` is summarized when `summarize` is."""
    # Each element takes its width plus ", ".
    element_length = formatter.width() + 2
    elements_per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edge = PRINT_OPTS.edgeitems
    if summarize and size > 2 * edge:
        data = (
            [formatter.format(v) for v in values[:edge]]
            + [" ..."]
            + [formatter.format(v) for v in values[edge:]]
        )
    else:
        data = [formatter.format(v) for v in values]
    lines = [
        ", ".join(data[i : i + elements_per_line]) for i in range(0, len(data), elements_per_line)
    ]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values: Any, shape: tuple[int, ...], indent: int, summarize: bool,
                formatter: _Formatter) -> str:
    """PyTorch's `_tensor_str_with_formatter` on the nested list of (summarized) values."""
    dim = len(shape)
    if dim == 0:
        return formatter.format(values)
    if dim == 1:
        return _vector_str(values, shape[0], indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    rows = [_nested_str(row, shape[1:], indent + 1, summarize, formatter) for row in values]
    if summarize and shape[0] > 2 * edge:
        # The summarized list holds exactly the first and the last `edge` rows.
        rows = [*rows[:edge], "...", *rows[edge:]]
    # Blank lines between the blocks of a 3-D (or deeper) tensor, one fewer per level.
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(rows) + "]"


def _tensor_str(tensor: Any, indent: int) -> str:
    """The bracketed values of a non-empty tensor (PyTorch's `_tensor_str`)."""
    shape = tuple(tensor.shape)
    summarize = tensor.numel() > PRINT_OPTS.threshold
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge and shape:
        # PyTorch prints every dimension as a bare "..." when edgeitems is 0.
        return "[...]"
    array = tensor._data
    if summarize:
        array = _summarized_array(array, tensor._backend, shape, edge)
    values = tensor._backend.tolist(array)
    flat = _flatten(values, len(shape))
    formatter: Any = (_ComplexFormatter(flat) if tensor.dtype.is_complex
                      else _Formatter(flat, tensor.dtype.is_floating_point))
    return _nested_str(values, shape, indent, summarize, formatter)


def _add_suffixes(tensor_str: str, suffixes: list[str], indent: int,
                  force_newline: bool = False) -> str:
    """Append ", suffix" items, moving one to a new line when it would pass the line width
    (the first one always, with `force_newline`: a sparse tensor's)."""
    parts = [tensor_str]
    # PyTorch's arithmetic, including its off-by-two when there is no newline (rfind gives -1).
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _sparse_str(tensor: Any, indent: int, suffixes: list[str]) -> str:
    """A sparse COO tensor's indices and values, with its size, nnz, dtype and layout among
    the suffixes (PyTorch's `_str_intern`)."""
    suffixes.append(f"size={tuple(tensor.shape)}")
    if not tensor.is_meta:
        suffixes.append(f"nnz={tensor._nnz()}")
    if tensor.dtype not in (dtypes.get_default_dtype(), dtypes.default_complex(), dtypes.int64,
                            dtypes.bool_):
        suffixes.append(f"dtype={tensor.dtype}")
    suffixes.append(f"layout={tensor.layout}")
    parts = []
    for name, part in (("indices", tensor._indices()), ("values", tensor._values())):
        prefix = f"{name}=tensor("
        if tensor.is_meta:
            text = "..."
        elif part.numel() == 0:
            text = "[]"
        else:
            text = _tensor_str(part, indent + len(prefix))
        if tensor.is_meta or part.numel() == 0:
            text += f", size={tuple(part.shape)}"
        parts.append(prefix + text + ")")
    return (",\n" + " " * indent).join(parts)


_COMPRESSED = (layouts.sparse_csr, layouts.sparse_csc, layouts.sparse_bsr, layouts.sparse_bsc)


def _compressed_str(tensor: Any, indent: int, suffixes: list[str]) -> str:
    """A compressed sparse tensor's indices and values, with its size, nnz, dtype and layout
    among the suffixes (PyTorch's `_str_intern`)."""
    suffixes.append(f"size={tuple(tensor.shape)}")
    if not tensor.is_meta:
        suffixes.append(f"nnz={tensor._nnz()}")
    if tensor.dtype not in (dtypes.get_default_dtype(), dtypes.default_complex(), dtypes.int64,
                            dtypes.bool_):
        suffixes.append(f"dtype={tensor.dtype}")
    suffixes.append(f"layout={tensor.layout}")
    rows = tensor.layout in (layouts.sparse_csr, layouts.sparse_bsr)
    compressed_name, plain_name = ("crow_indices", "col_indices") if rows \
        else ("ccol_indices", "row_indices")
    detached = tensor.detach()
    parts = []
    for name in (compressed_name, plain_name, "values"):
        part = getattr(detached, name)()
        prefix = f"{name}=tensor("
        if tensor.is_meta:
            text = "..."
        elif part.numel() == 0:
            text = "[]"
        else:
            text = _tensor_str(part, indent + len(prefix))
        if tensor.is_meta or part.numel() == 0:
            text += f", size={tuple(part.shape)}"
        parts.append(prefix + text + ")")
    return (",\n" + " " * indent).join(parts)


def _quantized_str(tensor: Any, indent: int, suffixes: list[str]) -> str:
    """A quantized tensor's real values, with its size, dtype and quantization parameters
    among the suffixes (PyTorch's `_str_intern`)."""
    suffixes.append(f"size={tuple(tensor.shape)}")
    suffixes.append(f"dtype={tensor.dtype}")
    scheme = tensor.qscheme()
    suffixes.append(f"quantization_scheme={scheme}")
    if scheme.name.startswith("per_tensor"):
        suffixes.append(f"scale={tensor.q_scale()}")
        suffixes.append(f"zero_point={tensor.q_zero_point()}")
    else:
        suffixes.append(f"scale={tensor.q_per_channel_scales()}")
        suffixes.append(f"zero_point={tensor.q_per_channel_zero_points()}")
        suffixes.append(f"axis={tensor.q_per_channel_axis()}")
    values = tensor.dequantize()
    return "[]" if values.numel() == 0 else _tensor_str(values, indent)


def tensor_repr(tensor: Any) -> str:
    """`repr(tensor)` (and `str(tensor)`), as PyTorch's `_str_intern` builds it for a dense
    tensor."""
    # A user's Tensor subclass is printed under its name; autodiff's own (views, Parameter)
    # as tensors. An alias that follows its base's history is its user class (`_protocol_class`).
    kind = type(tensor)
    kind = kind.__dict__.get("_protocol_class", kind)
    prefix = "tensor(" if kind.__module__.split(".")[0] == "autodiff" else f"{kind.__name__}("
    indent = len(prefix)
    suffixes = []

    # PyTorch prints the device whenever it is not the default (cpu) device.
    if tensor.device.type != "cpu":
        suffixes.append(f"device='{tensor.device}'")

    dtype = tensor.dtype
    default_dtype = dtypes.get_default_dtype()
    shape = tuple(tensor.shape)
    if tensor.is_sparse:
        tensor_str = _sparse_str(tensor, indent, suffixes)
    elif tensor.layout in _COMPRESSED:
        tensor_str = _compressed_str(tensor, indent, suffixes)
    elif tensor.is_quantized:
        tensor_str = _quantized_str(tensor, indent, suffixes)
    elif tensor.is_meta:  # no values: the size always, the dtype unless the default float one
        suffixes.append(f"size={shape}")
        if dtype is not default_dtype:
            suffixes.append(f"dtype={dtype}")
        tensor_str = "..."
    elif tensor.numel() == 0:
        # Like NumPy: the shape is shown unless it is (0,), and the dtype cannot be inferred
        # from values, so anything but the default float dtype is shown (int64 and bool too).
        if len(shape) != 1:
            suffixes.append(f"size={shape}")
        if dtype is not default_dtype:
            suffixes.append(f"dtype={dtype}")
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={shape}")
        # Values show whether they are floats, ints or bools; other widths are named.
        if dtype not in (default_dtype, dtypes.int64, dtypes.bool_, dtypes.default_complex()):
            suffixes.append(f"dtype={dtype}")
        tensor_str = _tensor_str(tensor, indent)

    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=tensor.is_sparse)
