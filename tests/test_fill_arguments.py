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
    # the whole message, "didn't match because ..." lines included
    assert _call(autodiff, form, args, kwargs) == _call(torch, form, args, kwargs)


_WHY = "      didn't match because some of the arguments have invalid types: "

# (form, args, PyTorch's whole message after its first line)
DETAILS = [
    (".scatter", (0, "i", "a"), [
        _SCATTER_METHOD[0], _WHY + "(int, Tensor, !str!)", _SCATTER_METHOD[1],
        _SCATTER_METHOD[2], _WHY + "(int, Tensor, !str!)", _SCATTER_METHOD[3]]),
    (".scatter", (0, 1.5, "i"), [
        _SCATTER_METHOD[0], _WHY + "(int, !float!, Tensor)", _SCATTER_METHOD[1],
        _SCATTER_METHOD[2], _WHY + "(int, !float!, !Tensor!)", _SCATTER_METHOD[3]]),
    # a Number is never matched by its name: PyTorch marks even an int
    (".index_fill", (0, [0, 1], 1), [
        _INDEX_FILL[0], _WHY + "(int, !list of [int, int]!, !int!)",
        _INDEX_FILL[1], _WHY + "(int, !list of [int, int]!, !int!)"]),
    (".index_fill", (0, (1,), 1.5), [
        _INDEX_FILL[0], _WHY + "(int, !tuple of (int,)!, !float!)",
        _INDEX_FILL[1], _WHY + "(int, !tuple of (int,)!, !float!)"]),
    (".index_fill", (True, "i", 1), [
        _INDEX_FILL[0], _WHY + "(!bool!, Tensor, !int!)",
        _INDEX_FILL[1], _WHY + "(!bool!, Tensor, !int!)"]),
    (".masked_fill", (1, 2), [
        _MASKED_FILL[0], _WHY + "(!int!, !int!)", _MASKED_FILL[1], _WHY + "(!int!, !int!)"]),
    (".masked_fill", ("m", []), [
        _MASKED_FILL[0], _WHY + "(Tensor, !list of []!)",
        _MASKED_FILL[1], _WHY + "(Tensor, !list of []!)"]),
]


@pytest.mark.parametrize("form, args, lines", DETAILS)
def test_why_each_overload_did_not_match(form, args, lines):
    message = _call(autodiff, form, args, {}).splitlines()
    assert message[1:] == lines


@pytest.mark.parametrize("form, args, lines", DETAILS)
def test_why_each_overload_did_not_match_as_pytorch(form, args, lines):
    torch = pytest.importorskip("torch")
    assert _call(autodiff, form, args, {}) == _call(torch, form, args, {})


@pytest.mark.parametrize("call", [
    lambda L: L.ones(2).prod("a"), lambda L: L.ones(2).prod(1.5), lambda L: L.ones(2).max("a"),
    lambda L: L.ones(2).min(1.5),
])
def test_reductions_refuse_a_dim_as_pytorch(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError) as ours:
        call(autodiff)
    with pytest.raises(TypeError) as theirs:
        call(torch)
    assert str(ours.value) == str(theirs.value)


def test_max_lists_why_its_one_argument_overloads_did_not_match():
    with pytest.raises(TypeError) as error:
        autodiff.ones(2).max("a")
    assert str(error.value).splitlines()[1:] == [
        " * ()", _WHY + "(!str!)", " * (Tensor other)", _WHY + "(!str!)",
        " * (int dim, bool keepdim = False)"]


def test_numbers_and_tensors_still_taken():
    x, i = autodiff.zeros(3), autodiff.tensor([0])
    m = autodiff.tensor([True, False, True])
    assert x.scatter(0, i, 2.0).tolist() == [2.0, 0.0, 0.0]
    assert x.scatter(0, i, value=autodiff.tensor(2.0)).tolist() == [2.0, 0.0, 0.0]
    assert x.scatter(0, i, autodiff.tensor([5.0])).tolist() == [5.0, 0.0, 0.0]
    assert x.masked_fill(m, autodiff.tensor(3.0)).tolist() == [3.0, 0.0, 3.0]
    assert autodiff.index_fill(x, 0, i, 1).tolist() == [1.0, 0.0, 0.0]


# Keyword arguments: PyTorch's parser lists them by name, in the order its hash map of them
# yields (not the order given), and marks them by name in its "didn't match" lines.
KEYWORD_CASES = [
    (".index_fill", (0, [0]), {"value": 1.0}, [
        "index_fill() received an invalid combination of arguments - got (int, list, "
        "value=float), but expected one of:",
        _INDEX_FILL[0], _WHY + "(int, !list of [int]!, !value=float!)",
        _INDEX_FILL[1], _WHY + "(int, !list of [int]!, !value=float!)"]),
    (".index_fill", (), {"dim": 0, "index": [0], "value": 1.0}, [
        "index_fill() received an invalid combination of arguments - got (index=list, "
        "value=float, dim=int, ), but expected one of:",
        _INDEX_FILL[0], _WHY + "(dim=int, !index=list of [int]!, !value=float!, )",
        _INDEX_FILL[1], _WHY + "(dim=int, !index=list of [int]!, !value=float!, )"]),
    (".index_fill_", (0,), {"index": "i", "value": [1.0]}, [
        "index_fill_() received an invalid combination of arguments - got (int, value=list, "
        "index=Tensor), but expected one of:",
        _INDEX_FILL[0], _WHY + "(int, index=Tensor, !value=list of [float]!)",
        _INDEX_FILL[1], _WHY + "(int, index=Tensor, !value=list of [float]!)"]),
    ("index_fill", (), {"dim": 0, "index": [0], "value": 1.0}, [
        "index_fill() received an invalid combination of arguments - got (Tensor, index=list, "
        "value=float, dim=int), but expected one of:",
        " * (Tensor input, int dim, Tensor index, Tensor value)",
        _WHY + "(Tensor, dim=int, !index=list of [int]!, !value=float!)",
        " * (Tensor input, int dim, Tensor index, Number value)",
        _WHY + "(Tensor, dim=int, !index=list of [int]!, !value=float!)"]),
    (".masked_fill", (), {"mask": [True, False, True], "value": 1.0}, [
        "masked_fill() received an invalid combination of arguments - got (value=float, "
        "mask=list, ), but expected one of:",
        _MASKED_FILL[0], _WHY + "(!mask=list of [bool, bool, bool]!, !value=float!, )",
        _MASKED_FILL[1], _WHY + "(!mask=list of [bool, bool, bool]!, !value=float!, )"]),
    (".masked_fill_", ("m",), {"value": [1.0]}, [
        "masked_fill_() received an invalid combination of arguments - got (Tensor, "
        "value=list), but expected one of:",
        _MASKED_FILL[0], _WHY + "(Tensor, !value=list of [float]!)",
        _MASKED_FILL[1], _WHY + "(Tensor, !value=list of [float]!)"]),
    ("masked_fill", (), {"mask": [True], "value": 1.0}, [
        "masked_fill() received an invalid combination of arguments - got (Tensor, "
        "value=float, mask=list), but expected one of:",
        " * (Tensor input, Tensor mask, Tensor value)",
        _WHY + "(Tensor, !mask=list of [bool]!, !value=float!)",
        " * (Tensor input, Tensor mask, Number value)",
        _WHY + "(Tensor, !mask=list of [bool]!, !value=float!)"]),
    (".scatter", (0,), {"index": [0], "src": "m"}, [
        "scatter() received an invalid combination of arguments - got (int, src=Tensor, "
        "index=list), but expected one of:",
        _SCATTER_METHOD[0], _WHY + "(int, !index=list of [int]!, src=Tensor)",
        _SCATTER_METHOD[1], _SCATTER_METHOD[2],
        "      didn't match because some of the keywords were incorrect: src",
        _SCATTER_METHOD[3]]),
    (".scatter_", (), {"dim": 0, "index": [0], "value": 1.0}, [
        "scatter_() received an invalid combination of arguments - got (index=list, "
        "value=float, dim=int, ), but expected one of:",
        _SCATTER_METHOD[0],
        "      didn't match because some of the keywords were incorrect: value",
        _SCATTER_METHOD[1], _SCATTER_METHOD[2],
        _WHY + "(dim=int, !index=list of [int]!, !value=float!, )", _SCATTER_METHOD[3]]),
    (".scatter", (), {"dim": 0, "index": "i", "src": [1.0]}, [
        "scatter() received an invalid combination of arguments - got (src=list, "
        "index=Tensor, dim=int, ), but expected one of:",
        _SCATTER_METHOD[0], _WHY + "(dim=int, index=Tensor, !src=list of [float]!, )",
        _SCATTER_METHOD[1], _SCATTER_METHOD[2],
        "      didn't match because some of the keywords were incorrect: src",
        _SCATTER_METHOD[3]]),
    ("scatter", (), {"dim": 0, "index": "i", "value": [1.0]}, [
        "scatter() received an invalid combination of arguments - got (Tensor, index=Tensor, "
        "value=list, dim=int), but expected one of:", *_SCATTER_FUNCTION]),
    (".scatter", (0, "i"), {"src": "m", "value": 1.0}, [
        "scatter() received an invalid combination of arguments - got (int, Tensor, "
        "value=float, src=Tensor), but expected one of:", *_SCATTER_METHOD]),
]


@pytest.mark.parametrize("form, args, kwargs, lines", KEYWORD_CASES)
def test_keywords_listed_by_name(form, args, kwargs, lines):
    assert _call(autodiff, form, args, kwargs).splitlines() == lines


@pytest.mark.parametrize("form, args, kwargs, lines", KEYWORD_CASES)
def test_keywords_listed_by_name_as_pytorch(form, args, kwargs, lines):
    torch = pytest.importorskip("torch")
    assert _call(autodiff, form, args, kwargs) == _call(torch, form, args, kwargs)


def test_keyword_order_is_libstdcxx_hash_map_order():
    from autodiff.ops._checks import hash_map_order

    assert hash_map_order(["dim", "index", "value"]) == ["index", "value", "dim"]
    assert hash_map_order(["dim", "index", "src"]) == ["src", "index", "dim"]
    assert hash_map_order(["value", "mask"]) == ["mask", "value"]
    assert hash_map_order([]) == []


def test_keywords_still_taken():
    x, i = autodiff.zeros(3), autodiff.tensor([0])
    m = autodiff.tensor([True, False, True])
    assert x.scatter(dim=0, index=i, src=autodiff.tensor([5.0])).tolist() == [5.0, 0.0, 0.0]
    assert x.scatter(0, index=i, value=2.0).tolist() == [2.0, 0.0, 0.0]
    assert autodiff.scatter(x, 0, i, value=2.0, out=autodiff.empty(3)).tolist() == \
        [2.0, 0.0, 0.0]
    assert x.index_fill(dim=0, index=i, value=1).tolist() == [1.0, 0.0, 0.0]
    assert autodiff.index_fill(input=x, dim=0, index=i, value=1).tolist() == [1.0, 0.0, 0.0]
    assert x.masked_fill(mask=m, value=3.0).tolist() == [3.0, 0.0, 3.0]
    y = autodiff.zeros(3)
    y.masked_fill_(value=4.0, mask=m)
    assert y.tolist() == [4.0, 0.0, 4.0]
