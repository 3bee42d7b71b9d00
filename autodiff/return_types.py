"""Named tuples returned by ops with several results, like `torch.return_types`: `x.max(dim)`
gives `max(values=..., indices=...)`, a tuple that also has `.values` and `.indices`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


class _ReturnType(tuple):
    """A tuple with named fields, printed as PyTorch prints its return types."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __new__(cls, sequence: Iterable[Any]) -> _ReturnType:
        items = tuple(sequence)
        if len(items) != len(cls._fields):
            raise TypeError(
                f"torch.return_types.{cls.__name__} takes a {len(cls._fields)}-sequence "
                f"({len(items)}-sequence given)"
            )
        return tuple.__new__(cls, items)

    @property
    def n_fields(self) -> int:
        return len(self._fields)

    n_sequence_fields = n_fields

    def __repr__(self) -> str:
        fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{fields})"


_OUT_TYPES: dict[type, type[_ReturnType]] = {}


def out_type(kind: type) -> type[_ReturnType]:
    """The `<name>_out` type (`max_out`) PyTorch returns when the results went into `out=`."""
    made = _OUT_TYPES.get(kind)
    if made is None:
        namespace = {key: value for key, value in vars(kind).items()
                     if key not in ("__dict__", "__weakref__")}
        made = _OUT_TYPES[kind] = type(f"{kind.__name__}_out", (_ReturnType,), namespace)
    return made


def _item(position: int) -> property:
    def get(self: tuple[Any, ...]) -> Any:
        return self[position]

    return property(get)


def _named(name: str, fields: tuple[str, ...]) -> type[_ReturnType]:
    namespace: dict[str, Any] = {"__slots__": (), "_fields": fields, "__module__": __name__}
    for position, field in enumerate(fields):
        namespace[field] = _item(position)
    return type(name, (_ReturnType,), namespace)


def _values_indices(name: str) -> type[_ReturnType]:
    return _named(name, ("values", "indices"))


max = _values_indices("max")
min = _values_indices("min")
sort = _values_indices("sort")
topk = _values_indices("topk")
kthvalue = _values_indices("kthvalue")
median = _values_indices("median")
nanmedian = _values_indices("nanmedian")
mode = _values_indices("mode")
cummax = _values_indices("cummax")
cummin = _values_indices("cummin")
aminmax = _named("aminmax", ("min", "max"))
histogram = _named("histogram", ("hist", "bin_edges"))
histogramdd = _named("histogramdd", ("hist", "bin_edges"))
frexp = _named("frexp", ("mantissa", "exponent"))
linalg_eigh = _named("linalg_eigh", ("eigenvalues", "eigenvectors"))
triangular_solve = _named("triangular_solve", ("solution", "cloned_coefficient"))
linalg_cholesky_ex = _named("linalg_cholesky_ex", ("L", "info"))
linalg_slogdet = _named("linalg_slogdet", ("sign", "logabsdet"))
slogdet = _named("slogdet", ("sign", "logabsdet"))
linalg_inv_ex = _named("linalg_inv_ex", ("inverse", "info"))
linalg_solve_ex = _named("linalg_solve_ex", ("result", "info"))
linalg_lstsq = _named("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
linalg_qr = _named("linalg_qr", ("Q", "R"))
qr = _named("qr", ("Q", "R"))
geqrf = _named("geqrf", ("a", "tau"))
linalg_ldl_factor = _named("linalg_ldl_factor", ("LD", "pivots"))
linalg_ldl_factor_ex = _named("linalg_ldl_factor_ex", ("LD", "pivots", "info"))
linalg_lu_factor = _named("linalg_lu_factor", ("LU", "pivots"))
linalg_lu_factor_ex = _named("linalg_lu_factor_ex", ("LU", "pivots", "info"))
linalg_lu = _named("linalg_lu", ("P", "L", "U"))
lu_unpack = _named("lu_unpack", ("P", "L", "U"))
linalg_svd = _named("linalg_svd", ("U", "S", "Vh"))
svd = _named("svd", ("U", "S", "V"))
linalg_eig = _named("linalg_eig", ("eigenvalues", "eigenvectors"))

__all__ = [
    "aminmax", "cummax", "cummin", "frexp", "geqrf", "histogram", "histogramdd", "kthvalue",
    "linalg_cholesky_ex", "linalg_eig", "linalg_eigh", "linalg_inv_ex", "linalg_ldl_factor",
    "linalg_ldl_factor_ex", "linalg_lstsq", "linalg_lu", "linalg_lu_factor",
    "linalg_lu_factor_ex", "linalg_qr", "linalg_slogdet", "linalg_solve_ex", "linalg_svd",
    "lu_unpack", "max", "median", "min", "mode", "nanmedian", "qr", "slogdet", "sort", "svd",
    "topk", "triangular_solve",
]
