"""The meta device: tensors with a shape and a dtype and no values. Factories, transfers, ops
(shapes, dtypes, broadcasting, gradients' shapes), Module.to('meta') and Module.to_empty, the
repr, and PyTorch's refusals where values are needed; compared with PyTorch where installed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import autodiff
from autodiff.utils.benchmark import Timer


def _outcome(lib: Any, call: Callable[[Any], Any]) -> Any:
    try:
        result = call(lib)
    except Exception as error:
        return type(error).__name__, str(error).split("\n")[0][:120]
    if isinstance(result, lib.Tensor):
        return (str(result.device), str(result.dtype), tuple(result.shape), result.requires_grad,
                result.is_meta, repr(result))
    return result


def _backward(lib: Any) -> Any:
    x = lib.ones(2, 3, device="meta", requires_grad=True)
    y = (x * x).sum()
    y.backward()
    return repr(x.grad), y.grad_fn.name()


def _linear_to_empty(lib: Any) -> Any:
    linear = lib.nn.Linear(3, 2, device="meta")
    before = (repr(linear.weight), linear.bias.is_meta)
    linear.to_empty(device="cpu")
    return before, str(linear.weight.device), tuple(linear.weight.shape), linear.bias.is_meta


def _module_to_meta(lib: Any) -> Any:
    model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.BatchNorm1d(3))
    model.to("meta")
    out = model(lib.ones(5, 4, device="meta"))
    nested = lib.nn.Sequential(lib.nn.Linear(2, 2))
    nested.to_empty(device="meta", recurse=False)
    return (repr(out), [p.is_meta for p in model.parameters()],
            [b.is_meta for b in model.buffers()], nested[0].weight.is_meta)


CASES: dict[str, Callable[[Any], Any]] = {
    "empty": lambda t: t.empty(2, 3, device="meta"),
    "empty(0)": lambda t: t.empty(0, device="meta"),
    "ones int64": lambda t: t.ones(2, device="meta", dtype=t.int64),
    "zeros bool": lambda t: t.zeros(2, device="meta", dtype=t.bool),
    "randn": lambda t: t.randn(2, 2, device="meta"),
    "device string with index": lambda t: t.empty(1, device="meta:0"),
    "device object": lambda t: str(t.device("meta")),
    "to meta": lambda t: t.arange(6.0).reshape(2, 3).to("meta"),
    "to meta keeps requires_grad": lambda t: t.ones(2, requires_grad=True).to("meta"),
    "sum is 0-d": lambda t: (t.empty(2, 3, device="meta") * 2).sum(),
    "promotion": lambda t: t.ones(2, 3, device="meta") + t.ones(3, device="meta",
                                                                dtype=t.float64),
    "matmul shape": lambda t: t.empty(4, 2, 3, device="meta") @ t.empty(3, 5, device="meta"),
    "0-d cpu joins": lambda t: t.empty(2, device="meta") + t.tensor(1.0),
    "zeros_like": lambda t: t.zeros_like(t.empty(2, 3, device="meta")),
    "empty_like to cpu": lambda t: tuple(t.empty_like(t.empty(2, 3, device="meta"),
                                                      device="cpu").shape),
    "new_zeros": lambda t: t.empty(2, device="meta").new_zeros(3),
    "float to double": lambda t: t.empty(2, device="meta").to(t.float64),
    "stride": lambda t: t.empty(2, 3, device="meta").stride(),
    "is_meta": lambda t: (t.empty(1, device="meta").is_meta, t.ones(1).is_meta),
    "item": lambda t: t.empty(2, 3, device="meta").item(),
    "item of one": lambda t: t.empty(1, device="meta").sum().item(),
    "bool": lambda t: bool(t.empty(1, device="meta")),
    "tolist": lambda t: t.empty(2, device="meta").tolist(),
    "numpy": lambda t: t.empty(2, device="meta").numpy(),
    "cpu": lambda t: t.empty(2, device="meta").cpu(),
    "copy_ out": lambda t: t.ones(2).copy_(t.empty(2, device="meta")),
    "copy_ in": lambda t: t.empty(2, device="meta").copy_(t.ones(2)),
    "meta + cpu": lambda t: t.empty(2, device="meta") + t.ones(2),
    "cpu + meta": lambda t: t.ones(2) + t.empty(2, device="meta"),
    "nonzero": lambda t: t.empty(2, device="meta").nonzero(),
    "mask": lambda t: t.empty(2, device="meta")[t.empty(2, device="meta") > 0],
    "max_pool2d": lambda t: t.nn.functional.max_pool2d(t.empty(2, 3, 8, 8, device="meta"), 2),
    "max_pool2d indices": lambda t: repr(t.nn.functional.max_pool2d(
        t.empty(1, 2, 5, 5, device="meta", requires_grad=True), 3, 2, 1,
        return_indices=True)),
    "max_pool1d float64": lambda t: t.nn.functional.max_pool1d(
        t.empty(2, 3, 9, device="meta", dtype=t.float64), 2),
    "adaptive_max_pool2d": lambda t: repr(t.nn.functional.adaptive_max_pool2d(
        t.empty(2, 3, 7, 9, device="meta"), (3, 4), return_indices=True)),
    "conv and pool": lambda t: t.nn.Sequential(
        t.nn.Conv2d(3, 6, 5), t.nn.MaxPool2d(2, 2)).to("meta")(
            t.empty(4, 3, 32, 32, device="meta")),
    "backward": _backward,
    "Linear(device=meta).to_empty": _linear_to_empty,
    "Module.to(meta)": _module_to_meta,
}


@pytest.mark.parametrize("call", list(CASES.values()), ids=list(CASES))
def test_meta_matches_pytorch(call: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _outcome(autodiff, call), _outcome(torch, call)
    if isinstance(theirs, tuple) and len(theirs) == 2 and theirs[0] == "NotImplementedError" \
            and "register_meta" in theirs[1]:
        # PyTorch's message goes on to name a torch.fx setting: the first sentence is compared
        theirs = (theirs[0], theirs[1][:len(ours[1])])
    assert ours == theirs


def test_meta_without_pytorch() -> None:
    x = autodiff.empty(2, 3, device="meta", dtype=autodiff.float64)
    assert repr(x) == "tensor(..., device='meta', size=(2, 3), dtype=torch.float64)"
    y = (x @ autodiff.empty(3, 4, device="meta", dtype=autodiff.float64)).exp()
    assert y.is_meta and y.shape == (2, 4) and y.dtype == autodiff.float64
    with pytest.raises(NotImplementedError, match=r"^Cannot copy out of meta tensor; no data!$"):
        y.cpu()
    with pytest.raises(RuntimeError, match=r"^Tensor.item\(\) cannot be called on meta"):
        y.sum().item()
    assert autodiff.nn.Linear(2, 2).to("meta").weight.is_meta
    pooled, indices = autodiff.nn.functional.max_pool2d(
        autodiff.empty(2, 3, 8, 8, device="meta"), 2, return_indices=True)
    assert pooled.is_meta and pooled.shape == (2, 3, 4, 4) and indices.dtype == autodiff.int64


def test_timer_times_a_statement() -> None:
    measurement = Timer("x + 1", setup="y = 2", globals={"x": autodiff.ones(3)},
                        label="L", sub_label="S", description="D").timeit(5)
    assert measurement.number_per_run == 5 and len(measurement.times) == 1
    assert measurement.mean == measurement.median > 0 and measurement.iqr == 0.0
    lines = repr(measurement).splitlines()
    assert lines[1:4] == ["L: S", "D", "setup: y = 2"]
    assert lines[5] == "  1 measurement, 5 runs , 1 thread"
    with pytest.raises(ValueError, match="only Python statements"):
        Timer("x", language="cpp")
