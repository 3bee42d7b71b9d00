"""Batching rules beyond what the op table batches: batched indices for gather/scatter and the
index_* family, per-sample gradients through convolutions, recurrent layers and attention
(the backward's ops batched too), batch norm's running statistics, each against a loop of
unbatched calls and with no performance warning (no per-example fallback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff import nn
from autodiff.func import functional_call, grad, hessian, jacfwd, jacrev, vmap
from autodiff.ops import linear, matmul
from tests.func.vmap_helpers import no_fallback as _no_fallback
from tests.func.vmap_helpers import randn64 as _t
from tests.func.vmap_helpers import values as _np

B = 3




def _against_loop(function: Callable[..., Any], args: tuple[Any, ...],
                  in_dims: tuple[int | None, ...]) -> None:
    with _no_fallback():
        out = vmap(function, in_dims=in_dims)(*args)
    looped = [function(*[a[b] if d is not None else a for a, d in zip(args, in_dims)])
              for b in range(B)]
    outs = out if isinstance(out, tuple) else (out,)
    for index, part in enumerate(outs):
        expected = [r[index] if isinstance(r, tuple) else r for r in looped]
        np.testing.assert_allclose(_np(part), _np(autodiff.stack(expected)), rtol=1e-10,
                                   atol=1e-12)


def _unique_rows(rows: int, count: int, size: int, seed: int, device: str) -> autodiff.Tensor:
    """`rows` vectors of `count` distinct positions below `size` (scatter and index_copy
    write each position once, so the result does not depend on the order of writes)."""
    rng = np.random.default_rng(seed)
    return autodiff.tensor(np.stack([rng.permutation(size)[:count] for _ in range(rows)]),
                           device=device)


# ----------------------------------------------------------------------------- indices
_SAME_RANK = {
    "gather": lambda x, i, s: x.gather(1, i),
    "scatter": lambda x, i, s: x.scatter(1, i, s),
    "scatter_value": lambda x, i, s: x.scatter(1, i, value=2.5),
    "scatter_add": lambda x, i, s: x.scatter_add(1, i, s),
    "scatter_reduce_amax": lambda x, i, s: x.scatter_reduce(1, i, s, "amax"),
    "scatter_reduce_mean": lambda x, i, s: x.scatter_reduce(1, i, s, "mean",
                                                            include_self=False),
    "take_along_dim": lambda x, i, s: autodiff.take_along_dim(x, i, 1),
}
_VECTOR = {
    "index_select": lambda x, i, s: x.index_select(1, i),
    "index_add": lambda x, i, s: x.index_add(1, i, s, alpha=0.5),
    "index_copy": lambda x, i, s: x.index_copy(1, i, s),
    "index_fill": lambda x, i, s: x.index_fill(1, i, -1.0),
    "index_reduce_prod": lambda x, i, s: x.index_reduce(1, i, s, "prod"),
    "index_reduce_amin": lambda x, i, s: x.index_reduce(1, i, s, "amin", include_self=False),
}
_DIMS = [(0, 0, 0), (None, 0, None), (0, 0, None), (None, 0, 0)]


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("in_dims", _DIMS, ids=str)
@pytest.mark.parametrize("name", [*_SAME_RANK, *_VECTOR])
def test_batched_index(name: str, in_dims: tuple[int | None, ...], device: str) -> None:
    x = _t(B, 4, 6, device=device)
    if name in _SAME_RANK:
        index = _unique_rows(B * 4, 3, 6, 1, device).reshape(B, 4, 3)
        source = _t(B, 4, 3, seed=2, device=device)
        function = _SAME_RANK[name]
    else:
        index = _unique_rows(B, 3, 6, 1, device)
        source = _t(B, 4, 3, seed=2, device=device)
        function = _VECTOR[name]
    args = tuple(a if d is not None else a[0] for a, d in zip((x, index, source), in_dims))
    _against_loop(function, args, in_dims)


@pytest.mark.parametrize("name", ["gather", "scatter_add", "index_select", "index_add"])
def test_batched_index_gradients(name: str) -> None:
    """Per-example gradients through a batched index: vmap(grad) against the loop."""
    table = {**_SAME_RANK, **_VECTOR}
    x = _t(B, 4, 6)
    index = (_unique_rows(B * 4, 3, 6, 1, "cpu").reshape(B, 4, 3) if name in _SAME_RANK
             else _unique_rows(B, 3, 6, 1, "cpu"))
    source = _t(B, 4, 3, seed=2)

    def loss(x: Any, index: Any, source: Any) -> Any:
        return (table[name](x, index, source) ** 2).sum()

    args = (x, index, source)
    _against_loop(grad(loss, argnums=(0, 2)) if name != "gather" and name != "index_select"
                  else grad(loss), args, (0, 0, 0))


def test_batched_index_out_of_range() -> None:
    with pytest.raises(IndexError, match="index out of range in self"):
        vmap(lambda x, i: x.index_select(0, i))(_t(B, 4), autodiff.tensor([[0], [4], [1]]))


# ----------------------------------------------------------------------------- convolution
@pytest.mark.parametrize("in_dims", [(0, None, None), (None, 0, None), (None, None, 0),
                                     (0, 0, 0), (0, 0, None)], ids=str)
@pytest.mark.parametrize("case", ["conv1d", "conv2d_groups", "conv_transpose2d_groups",
                                  "conv3d_stride"])
def test_convolution(case: str, in_dims: tuple[int | None, ...], device: str) -> None:
    shapes, function = {
        "conv1d": (((2, 4, 7), (6, 4, 3), (6,)),
                   lambda x, w, b: F.conv1d(x, w, b, padding=1)),
        "conv2d_groups": (((2, 4, 5, 5), (6, 2, 3, 2), (6,)),
                          lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), groups=2)),
        "conv_transpose2d_groups": (((2, 4, 3, 4), (4, 3, 2, 2), (6,)),
                                    lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2,
                                                                       groups=2, dilation=2)),
        "conv3d_stride": (((1, 2, 4, 4, 4), (3, 2, 2, 2, 2), (3,)),
                          lambda x, w, b: F.conv3d(x, w, b, stride=2, padding=1)),
    }[case]
    tensors = [_t(B, *shape, seed=i, device=device) for i, shape in enumerate(shapes)]
    args = tuple(t if d is not None else t[0] for t, d in zip(tensors, in_dims))
    _against_loop(function, args, in_dims)


def test_per_sample_gradients_of_a_conv_net() -> None:
    """vmap(grad) through conv2d, conv_transpose2d, group_norm and linear: the weight
    gradient's op batched as well."""
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, groups=2), nn.GroupNorm(2, 4),
                          nn.ReLU(), nn.ConvTranspose2d(4, 2, 2, stride=2), nn.Flatten(),
                          nn.Linear(2 * 8 * 8, 3)).double()
    params = {name: p.detach() for name, p in model.named_parameters()}
    x, y = _t(B, 2, 4, 4), autodiff.tensor([0, 2, 1])

    def loss(params: Any, sample: Any, target: Any) -> Any:
        out = functional_call(model, params, (sample.unsqueeze(0),))
        return F.cross_entropy(out, target.unsqueeze(0))

    with _no_fallback():
        per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for index in range(B):
        expected = grad(loss)(params, x[index], y[index])
        for name in params:
            np.testing.assert_allclose(_np(per_sample[name][index]), _np(expected[name]),
                                       rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- normalization
def test_batch_norm_running_statistics_per_example() -> None:
    """Batched running statistics: each example's are updated in place from its own batch,
    as PyTorch's vmap does; unbatched ones with a batched input are PyTorch's error."""
    x = _t(B, 4, 3, 5)
    mean, var = autodiff.zeros(B, 3, dtype=autodiff.float64), autodiff.ones(B, 3,
                                                                            dtype=autodiff.float64)
    loop_mean, loop_var = mean.clone(), var.clone()

    def f(x: Any, m: Any, v: Any) -> Any:
        return F.batch_norm(x, m, v, training=True, momentum=0.2)

    with _no_fallback():
        out = vmap(f)(x, mean, var)
    expected = autodiff.stack([f(x[b], loop_mean[b], loop_var[b]) for b in range(B)])
    np.testing.assert_allclose(_np(out), _np(expected), rtol=1e-10)
    np.testing.assert_allclose(_np(mean), _np(loop_mean), rtol=1e-12)
    np.testing.assert_allclose(_np(var), _np(loop_var), rtol=1e-12)
    with pytest.raises(RuntimeError, match="Batch norm got a batched tensor as input while the "
                                           "running_mean or running_var"):
        vmap(lambda x: f(x, mean[0], var[0]))(x)


@pytest.mark.parametrize("in_dims", [(0, None, None), (None, 0, None), (None, None, 0),
                                     (0, 0, 0)], ids=str)
@pytest.mark.parametrize("case", ["batch_norm_train", "batch_norm_eval", "group_norm",
                                  "layer_norm", "instance_norm"])
def test_normalization(case: str, in_dims: tuple[int | None, ...]) -> None:
    running = (autodiff.zeros(3, dtype=autodiff.float64) + 0.5,
               autodiff.ones(3, dtype=autodiff.float64) * 2)
    function, shapes = {
        "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                             ((4, 3, 5), (3,), (3,))),
        "batch_norm_eval": (lambda x, w, b: F.batch_norm(x, *running, w, b),
                            ((4, 3, 5), (3,), (3,))),
        "group_norm": (lambda x, w, b: F.group_norm(x, 3, w, b), ((2, 6, 4), (6,), (6,))),
        "layer_norm": (lambda x, w, b: F.layer_norm(x, (3, 4), w, b), ((2, 3, 4), (3, 4),
                                                                         (3, 4))),
        "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                          ((2, 3, 5), (3,), (3,))),
    }[case]
    tensors = [_t(B, *shape, seed=i) for i, shape in enumerate(shapes)]
    args = tuple(t if d is not None else t[0] for t, d in zip(tensors, in_dims))
    _against_loop(function, args, in_dims)


# ----------------------------------------------------------------------------- recurrent
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_per_sample_gradients_of_recurrent_layers(kind: str) -> None:
    """Batched weights (vmap over grad's parameters) run the layer as its per-step twin;
    shared weights fold the examples into the layer's rows: both against the loop."""
    autodiff.manual_seed(0)
    layer = getattr(nn, kind)(3, 4, batch_first=True).double()
    params = {name: p.detach() for name, p in layer.named_parameters()}
    x = _t(B, 2, 5, 3)

    def loss(params: Any, sample: Any) -> Any:
        out = functional_call(layer, params, (sample,))[0]
        return (out ** 2).sum()

    with _no_fallback():
        per_sample = vmap(grad(loss), in_dims=(None, 0))(params, x)
        outputs = vmap(lambda s: layer(s)[0])(x)
    for index in range(B):
        expected = grad(loss)(params, x[index])
        for name in params:
            np.testing.assert_allclose(_np(per_sample[name][index]), _np(expected[name]),
                                       rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(_np(outputs[index]), _np(layer(x[index])[0]), rtol=1e-10)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_recurrent_cells(kind: str) -> None:
    autodiff.manual_seed(0)
    cell = getattr(nn, kind)(3, 4).double()
    params = {name: p.detach() for name, p in cell.named_parameters()}
    x, h = _t(B, 2, 3), _t(B, 2, 4, seed=1)

    def loss(params: Any, x: Any, h: Any) -> Any:
        state = (h, h) if kind == "LSTMCell" else h
        out = functional_call(cell, params, (x, state))
        return ((out[0] if isinstance(out, tuple) else out) ** 2).sum()

    with _no_fallback():
        per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, h)
    for index in range(B):
        expected = grad(loss)(params, x[index], h[index])
        for name in params:
            np.testing.assert_allclose(_np(per_sample[name][index]), _np(expected[name]),
                                       rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- attention
@pytest.mark.parametrize("in_dims", [(0, 0, 0, 0), (0, None, None, None),
                                     (None, 0, 0, None), (None, None, None, 0)], ids=str)
def test_attention_with_batched_masks(in_dims: tuple[int | None, ...]) -> None:
    q, k, v = _t(B, 2, 4, 3), _t(B, 2, 5, 3, seed=1), _t(B, 2, 5, 3, seed=2)
    mask = autodiff.tensor(np.random.default_rng(3).random((B, 4, 5)) > 0.3)
    args = tuple(t if d is not None else t[0] for t, d in zip((q, k, v, mask), in_dims))
    _against_loop(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                  args, in_dims)


def test_attention_per_sample_gradients() -> None:
    q, k, v = _t(B, 4, 3), _t(B, 5, 3, seed=1), _t(B, 5, 3, seed=2)

    def loss(q: Any, k: Any, v: Any) -> Any:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True).sum()

    _against_loop(grad(loss, argnums=(0, 1, 2)), (q, k, v), (0, 0, 0))


# ----------------------------------------------------------------------------- value checks
def test_value_checks_over_every_example() -> None:
    """gaussian_nll_loss checks var >= 0 on every example's values at once, so a batched var
    works (PyTorch's vmap refuses it as data-dependent control flow) and one negative entry
    in any example is the unbatched call's error."""
    x, t = _t(B, 4), _t(B, 4, seed=1)
    var = _t(B, 4, seed=2).abs() + 0.1
    _against_loop(lambda x, t, v: F.gaussian_nll_loss(x, t, v), (x, t, var), (0, 0, 0))
    negative = var.clone()
    negative[1, 2] = -1.0
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        vmap(lambda x, t, v: F.gaussian_nll_loss(x, t, v))(x, t, negative)


def test_nested_per_sample_gradients_of_linear() -> None:
    """vmap(vmap(grad)) and vmap(jacrev) through linear with parameters shared by every
    example: one GEMM per level, no fallback, the loop's gradients."""
    autodiff.manual_seed(0)
    w, b = _t(4, 3), _t(4, seed=1)
    x = _t(2, 5, 3, seed=2)

    def f(w: Any, b: Any, x: Any) -> Any:
        return F.linear(x, w, b).tanh().sum()

    def g(w: Any, x: Any) -> Any:
        return F.linear(x, w, b).tanh()

    with _no_fallback():
        nested = vmap(vmap(grad(f), in_dims=(None, None, 0)), in_dims=(None, None, 0))(w, b, x)
        jacobians = vmap(jacrev(g), in_dims=(None, 0))(w, x[0])
    expected = autodiff.stack([autodiff.stack([grad(f)(w, b, x[i, k]) for k in range(5)])
                               for i in range(2)])
    np.testing.assert_allclose(_np(nested), _np(expected), rtol=1e-12)
    np.testing.assert_allclose(_np(jacobians),
                               _np(autodiff.stack([jacrev(g)(w, x[0, k]) for k in range(5)])),
                               rtol=1e-12)


def _mlp(w1: Any, b1: Any, w2: Any, b2: Any, sample: Any, form: str) -> Any:
    if form == "matmul":  # the parameters as matrices of matmul (SharedMatmul)
        hidden = (sample @ w1.mT + b1).tanh()
        return (hidden @ w2.mT + b2).logsumexp(-1).sum()
    hidden = F.linear(sample, w1, b1).tanh()
    return F.linear(hidden, w2, b2).logsumexp(-1).sum()


_SECOND_ORDER = {
    "jacrev(jacrev)": lambda f: jacrev(jacrev(f, argnums=(0, 1, 2, 3)), argnums=(0, 1, 2, 3)),
    "jacrev(grad)": lambda f: jacrev(grad(f, argnums=(0, 1, 2, 3)), argnums=(0, 1, 2, 3)),
    "jacfwd(jacrev)": lambda f: jacfwd(jacrev(f, argnums=(0, 1, 2, 3)), argnums=(0, 1, 2, 3)),
    "hessian": lambda f: hessian(f, argnums=(0, 1, 2, 3)),
}


@pytest.mark.parametrize("form", ["linear", "matmul"])
@pytest.mark.parametrize("rows", [None, 1, 2])
@pytest.mark.parametrize("transform", list(_SECOND_ORDER))
def test_per_sample_second_derivatives_of_shared_parameters(form: str, rows: int | None,
                                                            transform: str) -> None:
    """Per-example Hessians w.r.t. parameters every example shares: the gradient's
    weight-gradient is one example's own (the GEMM that serves them all keeps each
    example's second derivative apart), against the loop of examples, with no fallback."""
    w1, b1, w2, b2 = _t(5, 4), _t(5, seed=1), _t(3, 5, seed=2), _t(3, seed=3)
    x = _t(B, *(() if rows is None else (rows,)), 4, seed=4)
    second = _SECOND_ORDER[transform](lambda *a: _mlp(*a, form=form))
    with _no_fallback():
        batched = vmap(second, in_dims=(None, None, None, None, 0))(w1, b1, w2, b2, x)
    for index in range(B):
        single = second(w1, b1, w2, b2, x[index])
        for a in range(4):
            for b in range(4):
                np.testing.assert_allclose(_np(batched[a][b][index]), _np(single[a][b]),
                                           rtol=1e-10, atol=1e-12,
                                           err_msg=f"example {index}, block {a}{b}")


def _shared_op_cases() -> dict[str, tuple[Any, Callable[..., Any], tuple[tuple[int, ...], ...]]]:
    """The ops on a batch of 3 examples whose weight repeats along it: (op, call, the shapes
    of the operands one outer example has; the weight's is (out, in), repeated by `call`)."""
    def shared_matmul(a: Any, b: Any) -> Any:
        return matmul.SharedMatmul.apply(a, b.expand(3, *b.shape))

    def shared_linear(x: Any, w: Any, b: Any) -> Any:
        return linear.SharedLinear.apply(x, w.expand(3, *w.shape), b.expand(3, *b.shape))

    def shared_linear_backward(grad: Any, x: Any, w: Any) -> Any:
        return linear.SharedLinearBackward.apply(grad, x, w.expand(3, *w.shape),
                                                 needs=(True, True, True))

    return {"SharedMatmul": (matmul.SharedMatmul, shared_matmul, ((3, 2, 4), (4, 5))),
            "SharedLinear": (linear.SharedLinear, shared_linear, ((3, 2, 4), (5, 4), (5,))),
            "SharedLinearBackward": (linear.SharedLinearBackward, shared_linear_backward,
                                     ((3, 2, 5), (3, 2, 4), (5, 4)))}


@pytest.mark.parametrize("name", ["SharedMatmul", "SharedLinear", "SharedLinearBackward"])
@pytest.mark.parametrize("weight_batched", [False, True])
def test_shared_weight_ops_under_vmap(name: str, weight_batched: bool) -> None:
    """The ops vmap(grad) makes of parameters every example shares, themselves batched by an
    enclosing vmap (as the backward of a per-example gradient meets them): the outer examples
    folded into the batch (a weight and bias they share) or the ops' composite (a weight and
    bias of their own), against the loop, with first and second derivatives."""
    op, call, shapes = _shared_op_cases()[name]
    outer = 2
    in_dims = tuple(0 if index not in op.shared or weight_batched else None
                    for index in range(len(shapes)))
    args = [_t(*((outer,) if dim is not None else ()), *shape, seed=index).requires_grad_()
            for index, (shape, dim) in enumerate(zip(shapes, in_dims))]

    def total(*operands: Any) -> Any:
        with _no_fallback():
            out = vmap(call, in_dims=in_dims)(*operands)
        result = autodiff.tensor(0.0, dtype=autodiff.float64)
        for part in out if isinstance(out, tuple) else (out,):
            result = result + part.tanh().sum()
        return result

    def looped(*operands: Any) -> Any:
        result = autodiff.tensor(0.0, dtype=autodiff.float64)
        for n in range(outer):
            out = call(*[a[n] if d is not None else a for a, d in zip(operands, in_dims)])
            for part in out if isinstance(out, tuple) else (out,):
                result = result + part.tanh().sum()
        return result

    value, expected = total(*args), looped(*args)
    np.testing.assert_allclose(_np(value), _np(expected), rtol=1e-12)
    first = autodiff.autograd.grad(value, args, create_graph=True)
    first_loop = autodiff.autograd.grad(expected, args, create_graph=True)
    for got, want in zip(first, first_loop):
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-10, atol=1e-12)
    second = autodiff.autograd.grad(sum(g.sin().sum() for g in first), args)
    second_loop = autodiff.autograd.grad(sum(g.sin().sum() for g in first_loop), args)
    for got, want in zip(second, second_loop):
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-10, atol=1e-12)
