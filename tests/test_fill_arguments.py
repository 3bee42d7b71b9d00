"""scatter, index_fill and masked_fill refuse a list (or None) where PyTorch's argument parser
wants a Tensor or a Number: TypeError, PyTorch's first line and overload list, nothing written."""

import pytest

import autodiff

_SCATTER_METHOD = (
    " * (int dim, Tensor index, Tensor src)",
    " * (int dim, Tensor index, Tensor src, *, str reduce)",
    " * (int dim, Tensor index, Number value)",
    " * (int dim, Tensor index, Number value, *, str reduce)",
)
_SCATTER_FUNCTION = (
    " * (Tensor input, int dim, Tensor index, Tensor src, *, Tensor out = None)",
    " * (Tensor input, int dim, Tensor index, Tensor src, *, str reduce, Tensor out = None)",
    " * (Tensor input, int dim, Tensor index, Number value, *, Tensor out = None)",
    " * (Tensor input, int dim, Tensor index, Number value, *, str reduce, Tensor out = None)",
)
_INDEX_FILL = (
    " * (int dim, Tensor index, Tensor value)",
    " * (int dim, Tensor index, Number value)",
)
_MASKED_FILL = (" * (Tensor mask, Tensor value)", " * (Tensor mask, Number value)")


def _function(lines):
    return tuple(line.replace(" * (", " * (Tensor input, ", 1) for line in lines)


def _call(lib, form, args, kwargs):
    x = lib.zeros(3)
    i, m = lib.tensor([0]), lib.tensor([True, False, True])
    named = {"i": i, "m": m}
    args = tuple(named.get(a, a) if isinstance(a, str) else a for a in args)
    kwargs = {k: named.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    name = form.lstrip(".")
    try:
        if form.startswith("."):
            getattr(x, name)(*args, **kwargs)
        else:
            getattr(lib, name)(x, *args, **kwargs)
    except TypeError as error:
        assert x.tolist() == [0.0, 0.0, 0.0]
        return str(error)
    raise AssertionError(f"{form}{args} was accepted")


CASES = [
    (".scatter", (0, [0], 1.0), {}, "(int, list, float)", _SCATTER_METHOD),
    (".scatter", (0, "i", [1.0]), {}, "(int, Tensor, list)", _SCATTER_METHOD),
    (".scatter", (0, "i"), {"value": [1.0]}, "(int, Tensor, value=list)", _SCATTER_METHOD),
    (".scatter", (0, "i"), {}, "(int, Tensor)", _SCATTER_METHOD),
    (".scatter_", (0, [0], 1.0), {}, "(int, list, float)", _SCATTER_METHOD),
    (".scatter_", (0, "i", [1.0]), {}, "(int, Tensor, list)", _SCATTER_METHOD),
    ("scatter", (0, "i", [1.0]), {}, "(Tensor, int, Tensor, list)", _SCATTER_FUNCTION),
    ("scatter", (0, [0], 1.0), {}, "(Tensor, int, list, float)", _SCATTER_FUNCTION),
    (".index_fill", (0, [0], 1.0), {}, "(int, list, float)", _INDEX_FILL),
    (".index_fill", (0, "i", [1.0]), {}, "(int, Tensor, list)", _INDEX_FILL),
    (".index_fill_", (0, [0], 1.0), {}, "(int, list, float)", _INDEX_FILL),
    ("index_fill", (0, [0], 1.0), {}, "(Tensor, int, list, float)", _function(_INDEX_FILL)),
    (".masked_fill", ([True, False, True], 1.0), {}, "(list, float)", _MASKED_FILL),
    (".masked_fill", ("m", [1.0]), {}, "(Tensor, list)", _MASKED_FILL),
    (".masked_fill", ("m", None), {}, "(Tensor, NoneType)", _MASKED_FILL),
    (".masked_fill_", ([True, False, True], 1.0), {}, "(list, float)", _MASKED_FILL),
    ("masked_fill", ([True, False, True], 1.0), {}, "(Tensor, list, float)",
     _function(_MASKED_FILL)),
]


@pytest.mark.parametrize("form, args, kwargs, got, overloads", CASES)
def test_refused_like_pytorch(form, args, kwargs, got, overloads):
    message = _call(autodiff, form, args, kwargs)
    name = form.lstrip(".")
    first = (f"{name}() received an invalid combination of arguments - got {got}, "
             "but expected one of:")
    assert message.splitlines()[0] == first
    assert tuple(line for line in message.splitlines() if line.startswith(" * ")) == overloads


@pytest.mark.parametrize("form, args, kwargs, got, overloads", CASES)
def test_pytorch_agrees(form, args, kwargs, got, overloads):
    torch = pytest.importorskip("torch")
    ours = _call(autodiff, form, args, kwargs).splitlines()
    theirs = _call(torch, form, args, kwargs).splitlines()
    assert ours[0] == theirs[0]
    # PyTorch adds "didn't match because ..." lines under some overloads; the overloads agree.
    assert [line for line in ours if line.startswith(" * ")] == \
        [line for line in theirs if line.startswith(" * ")]


def test_numbers_and_tensors_still_taken():
    x, i = autodiff.zeros(3), autodiff.tensor([0])
    m = autodiff.tensor([True, False, True])
    assert x.scatter(0, i, 2.0).tolist() == [2.0, 0.0, 0.0]
    assert x.scatter(0, i, value=autodiff.tensor(2.0)).tolist() == [2.0, 0.0, 0.0]
    assert x.scatter(0, i, autodiff.tensor([5.0])).tolist() == [5.0, 0.0, 0.0]
    assert x.masked_fill(m, autodiff.tensor(3.0)).tolist() == [3.0, 0.0, 3.0]
    assert autodiff.index_fill(x, 0, i, 1).tolist() == [1.0, 0.0, 0.0]
