"""scaled_dot_product_attention and MultiheadAttention: against PyTorch (values, gradients of
q, k, v and float masks, node names, errors, warnings), dropout replayed in backward, the fused
backward against the elementary twin, double backward, the memory the op keeps, devices."""

from __future__ import annotations

import gc
import re
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff import autograd, nn
from autodiff.ops import attention as attention_ops
from tests.compare import same_error

F64 = autodiff.float64


def _np(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


# ----------------------------------------------------------------------------- SDPA vs PyTorch
def _causal(rows: int, columns: int) -> np.ndarray:
    return np.tril(np.ones((rows, columns), bool))


SDPA_CASES: list[tuple[str, tuple[tuple[int, ...], ...], dict[str, Any]]] = [
    ("basic", ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), {}),
    ("causal", ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), {"is_causal": True}),
    ("causal L>S", ((1, 2, 6, 3), (1, 2, 4, 3), (1, 2, 4, 2)), {"is_causal": True}),
    ("bool mask", ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), {"mask": ("bool", (4, 6))}),
    ("bool mask full", ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
     {"mask": ("bool", (2, 3, 4, 6))}),
    ("float mask", ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), {"mask": ("float", (3, 1, 6))}),
    ("float32 mask", ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
     {"mask": ("float32", (4, 6))}),
    ("scale", ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), {"scale": 0.3}),
    ("3-D", ((3, 4, 5), (3, 6, 5), (3, 6, 7)), {}),
    ("2-D", ((4, 5), (6, 5), (6, 7)), {"is_causal": True}),
    ("broadcast k, v", ((2, 3, 4, 5), (1, 3, 6, 5), (1, 3, 6, 7)), {}),
    ("broadcast q", ((3, 4, 5), (2, 3, 6, 5), (2, 1, 6, 7)), {}),
    ("5-D", ((2, 2, 3, 4, 5), (2, 2, 3, 6, 5), (2, 2, 3, 6, 7)),
     {"mask": ("bool", (2, 1, 3, 4, 6))}),
    ("gqa", ((2, 4, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7)),
     {"enable_gqa": True, "mask": ("float", (2, 4, 4, 6))}),
    ("gqa bool", ((2, 6, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7)),
     {"enable_gqa": True, "mask": ("bool", (6, 4, 6))}),
    ("gqa keys and values differ", ((2, 4, 4, 5), (2, 2, 6, 5), (2, 1, 6, 7)),
     {"enable_gqa": True}),
    ("gqa causal 3-D", ((4, 4, 5), (2, 6, 5), (2, 6, 7)), {"enable_gqa": True,
                                                            "is_causal": True}),
    ("gqa no-op", ((2, 2, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7)), {"enable_gqa": True}),
    ("many heads", ((2, 40, 9, 4), (2, 40, 7, 4), (2, 40, 7, 3)), {"mask": ("bool", (9, 7))}),
    ("empty source", ((2, 4, 5), (2, 0, 5), (2, 0, 7)), {}),
]


def _mask_values(kind: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if kind == "bool":
        mask = rng.random(shape) > 0.4
        mask[..., 1, :] = False  # a row with nothing to attend to: 0, as PyTorch's
        return mask
    values = rng.standard_normal(shape)
    values[..., 0, 1] = -np.inf
    return values.astype(np.float32) if kind == "float32" else values


@pytest.mark.parametrize(("name", "shapes", "options"), SDPA_CASES,
                         ids=[case[0] for case in SDPA_CASES])
def test_sdpa_matches_pytorch(name: str, shapes: tuple[tuple[int, ...], ...],
                              options: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(shape) for shape in shapes]
    options = dict(options)
    mask_spec = options.pop("mask", None)
    mask = None if mask_spec is None else _mask_values(*mask_spec, rng)
    grad_mask = mask is not None and mask.dtype.kind == "f"
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    ours = [autodiff.tensor(v, requires_grad=True) for v in values]
    t_mask = None if mask is None else torch.tensor(mask, requires_grad=grad_mask)
    a_mask = None if mask is None else autodiff.tensor(mask, requires_grad=grad_mask)
    t_out = torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=t_mask,
                                                             **options)
    a_out = F.scaled_dot_product_attention(*ours, attn_mask=a_mask, **options)
    assert tuple(a_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(_np(a_out), _np(t_out), atol=1e-12)
    if t_out.grad_fn.name() in ("UnsafeViewBackward0", "MmBackward0"):  # PyTorch's math path
        assert a_out.grad_fn.name() == t_out.grad_fn.name()
    upstream = rng.standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(upstream))
    a_out.backward(autodiff.tensor(upstream))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(_np(mine.grad), _np(reference.grad), atol=1e-11)
    if grad_mask:
        assert a_mask.grad.dtype is a_mask.dtype
        np.testing.assert_allclose(_np(a_mask.grad), _np(t_mask.grad), atol=1e-6)


@pytest.mark.parametrize(("name", "shapes", "options"), SDPA_CASES[:-1],
                         ids=[case[0] for case in SDPA_CASES[:-1]])
def test_sdpa_fused_backward_matches_its_twin(name: str, shapes: tuple[tuple[int, ...], ...],
                                              options: dict[str, Any], device: str) -> None:
    rng = np.random.default_rng(1)
    options = dict(options)
    mask_spec = options.pop("mask", None)
    leaves = [autodiff.tensor(rng.standard_normal(s), device=device, requires_grad=True)
              for s in shapes]
    if mask_spec is not None:
        mask = _mask_values(*mask_spec, rng)
        options["attn_mask"] = autodiff.tensor(mask, device=device,
                                               requires_grad=mask.dtype.kind == "f")
        if mask.dtype.kind == "f":
            leaves.append(options["attn_mask"])
    out = F.scaled_dot_product_attention(*leaves[:3], **options)
    upstream = autodiff.tensor(rng.standard_normal(tuple(out.shape)), device=device,
                               dtype=F64)
    fast = autograd.grad(out, leaves, upstream, retain_graph=True)
    recorded = autograd.grad(out, leaves, upstream, create_graph=True)  # through the twin
    for a, b in zip(fast, recorded):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-12)


SDPA_ERRORS: list[tuple[str, Callable[[Any], Any], str]] = [
    ("causal and mask", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 4), m.zeros(2, 5, 4), m.zeros(2, 5, 4),
        attn_mask=m.ones(3, 5, dtype=m.bool), is_causal=True),
     "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"),
    ("dtypes", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 4), m.zeros(2, 5, 4, dtype=m.float64), m.zeros(2, 5, 4, dtype=m.float64)),
     "Expected query, key, and value to have the same dtype, but got query.dtype: float "
     "key.dtype: double and value.dtype: double instead."),
    ("1-D", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(4), m.zeros(4), m.zeros(4)),
     "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: 1 "
     "key.dim: 1 and value.dim: 1 instead."),
    ("mask dtype", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 4), m.zeros(2, 5, 4), m.zeros(2, 5, 4), attn_mask=m.zeros(3, 5,
                                                                                dtype=m.int64)),
     "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
     "attn_mask.dtype: long int and  query.dtype: float instead."),
    ("integers", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 4, dtype=m.int64), m.zeros(2, 5, 4, dtype=m.int64),
        m.zeros(2, 5, 4, dtype=m.int64)), "expected scalar type Float but found Long"),
    ("key features", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 3, 4), m.zeros(2, 3, 5, 3), m.zeros(2, 3, 5, 4)),
     "Expected size for first two dimensions of batch2 tensor to be: [6, 4] but got: [6, 3]."),
    # (3-D: PyTorch's CPU flash kernel, which 4-D float32 inputs take, does not check this)
    ("value length", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(6, 3, 4), m.zeros(6, 5, 4), m.zeros(6, 6, 4)),
     "Expected size for first two dimensions of batch2 tensor to be: [6, 5] but got: [6, 6]."),
    ("batch", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 4), m.zeros(3, 5, 4), m.zeros(3, 5, 4)),
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension "
     "0"),
    ("mask shape", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 4), m.zeros(2, 5, 4), m.zeros(2, 5, 4), attn_mask=m.zeros(4, 5)),
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension "
     "1"),
    ("mask dims", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 4), m.zeros(2, 5, 4), m.zeros(2, 5, 4), attn_mask=m.zeros(1, 1, 3, 5)),
     "output with shape [2, 3, 5] doesn't match the broadcast shape [1, 2, 3, 5]"),
    ("dropout", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(2, 3, 4), m.zeros(2, 5, 4), m.zeros(2, 5, 4), dropout_p=1.5),
     "dropout probability has to be between 0 and 1, but got 1.5"),
    ("gqa heads", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(1, 4, 3, 4), m.zeros(1, 3, 5, 4), m.zeros(1, 3, 5, 4), enable_gqa=True),
     "Number of heads in key and value must divide the number of heads in "),
    ("heads without gqa", lambda m: m.nn.functional.scaled_dot_product_attention(
        m.zeros(1, 4, 3, 4), m.zeros(1, 2, 5, 4), m.zeros(1, 2, 5, 4)),
     "The size of tensor a (4) must match the size of tensor b (2) at non-singleton dimension "
     "1"),
]


@pytest.mark.parametrize(("name", "call", "message"), SDPA_ERRORS,
                         ids=[case[0] for case in SDPA_ERRORS])
def test_sdpa_errors(name: str, call: Callable[[Any], Any], message: str) -> None:
    with pytest.raises(RuntimeError, match=re.escape(message)):
        call(autodiff)


@pytest.mark.parametrize(("name", "call", "message"), SDPA_ERRORS,
                         ids=[case[0] for case in SDPA_ERRORS])
def test_sdpa_errors_are_pytorchs(name: str, call: Callable[[Any], Any], message: str) -> None:
    torch = pytest.importorskip("torch")
    assert same_error(lambda: call(autodiff), lambda: call(torch)) == message


# ----------------------------------------------------------------------------- dropout
def test_sdpa_dropout_is_replayed_in_backward(device: str) -> None:
    autodiff.manual_seed(0)
    q, k, v = (autodiff.randn(2, 3, 4, 5, dtype=F64, device=device, requires_grad=True)
               for _ in range(3))

    def attention(*inputs: autodiff.Tensor) -> autodiff.Tensor:
        autodiff.manual_seed(7)  # the same dropout mask on every call
        return F.scaled_dot_product_attention(*inputs, dropout_p=0.3, is_causal=True)

    assert autograd.gradcheck(attention, (q, k, v))
    assert autograd.gradgradcheck(attention, (q, k, v))
    out = attention(q, k, v)
    autodiff.manual_seed(8)
    assert not np.allclose(_np(out), _np(F.scaled_dot_product_attention(q, k, v,
                                                                         dropout_p=0.3)))
    np.testing.assert_allclose(_np(out), _np(attention(q, k, v)))


def test_sdpa_dropout_statistics_and_edges(device: str) -> None:
    autodiff.manual_seed(3)
    ones = autodiff.ones(4, 8, 64, 16, device=device)
    out = F.scaled_dot_product_attention(ones, ones, ones, dropout_p=0.25)
    values = _np(out)
    assert abs(values.mean() - 1) < 0.01  # E[mask / (1 - p)] = 1
    assert values.std() > 0.05
    zeros = F.scaled_dot_product_attention(ones, ones, ones, dropout_p=1.0)
    np.testing.assert_array_equal(_np(zeros), 0)
    unchanged = F.scaled_dot_product_attention(ones, ones, ones, dropout_p=-1.0)
    np.testing.assert_array_equal(_np(unchanged), 1)


# ----------------------------------------------------------------------------- memory
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_sdpa_computes_half_precision_in_float32(dtype: str) -> None:
    # PyTorch's math path upcasts float16 and bfloat16 (ToCopyBackward0 on top) unless
    # torch.backends.cuda.allow_fp16_bf16_reduction_math_sdp(True)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3, 64, 32)).astype(np.float32) * 3 for _ in range(3)]
    low = getattr(autodiff, dtype)
    q, k, v = (autodiff.tensor(a).to(low).requires_grad_() for a in arrays)
    reference = F.scaled_dot_product_attention(*(t.detach().double() for t in (q, k, v)))
    mask = autodiff.tensor(rng.standard_normal((64, 64)).astype(np.float32)).to(low)
    assert not autodiff.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.dtype is low and type(out.grad_fn).__name__ == "ToCopyBackward0"
    wide = F.scaled_dot_product_attention(*(t.detach().float() for t in (q, k, v)))
    assert autodiff.equal(out.detach(), wide.to(low))
    masked = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert autodiff.equal(masked.detach(), F.scaled_dot_product_attention(
        *(t.detach().float() for t in (q, k, v)), attn_mask=mask.float()).to(low))
    out.sum().backward()
    assert q.grad is not None and q.grad.dtype is low
    upcast_error = float((out.detach().double() - reference).abs().max())
    autodiff.backends.cuda.allow_fp16_bf16_reduction_math_sdp(True)
    try:
        assert autodiff.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
        reduced = F.scaled_dot_product_attention(q, k, v)
        assert type(reduced.grad_fn).__name__ == "UnsafeViewBackward0"
    finally:
        autodiff.backends.cuda.allow_fp16_bf16_reduction_math_sdp(False)
    assert upcast_error < float((reduced.detach().double() - reference).abs().max())
    with pytest.raises(RuntimeError, match=r"^set_sdp_use_math expects a bool, but got int$"):
        autodiff.backends.cuda.allow_fp16_bf16_reduction_math_sdp(1)
    assert not autodiff.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()


def test_sdpa_half_precision_under_autocast() -> None:
    q = autodiff.randn(2, 4, 8)
    with autodiff.autocast("cpu", dtype=autodiff.bfloat16):
        out = F.scaled_dot_product_attention(q, q, q)
    assert out.dtype is autodiff.bfloat16


def test_sdpa_keeps_one_score_buffer() -> None:
    """Forward + backward of causal attention: beyond inputs, outputs and gradients, the peak
    is the probabilities (one L x S per head, kept for backward) plus chunk temporaries."""
    batch, heads, length, dim = 2, 16, 256, 16
    q, k, v = (autodiff.randn(batch, heads, length, dim, requires_grad=True) for _ in range(3))
    upstream = autodiff.randn(batch, heads, length, dim)
    scores = batch * heads * length * length * 4
    linear = batch * heads * length * dim * 4

    def run() -> None:
        F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(upstream)

    run()  # warm up
    for t in (q, k, v):
        t.grad = None
    gc.collect()
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    beyond = peak - 6 * linear  # output, its saved copy, three gradients, grad temporaries
    assert beyond <= 1.3 * scores, (beyond / scores)


# ----------------------------------------------------------------------------- MultiheadAttention
MHA_CONFIGS = [{}, {"batch_first": True}, {"kdim": 5, "vdim": 3},
               {"add_bias_kv": True, "add_zero_attn": True}, {"bias": False},
               {"dropout": 0.2}]
MHA_CALLS: list[dict[str, Any]] = [
    {}, {"need_weights": False}, {"average_attn_weights": False},
    {"key_padding_mask": np.array([[False] * 4 + [True], [False] * 5,
                                   [False, True] + [False] * 3])},
    {"key_padding_mask": np.array([[0.0] * 4 + [-np.inf], [0.0] * 5, [0.0, -2.0, 0.0, 0.0, 0.0]]),
     "need_weights": False},
    {"attn_mask": np.random.default_rng(0).random((4, 5)) > 0.7, "need_weights": False},
    {"attn_mask": np.random.default_rng(1).standard_normal((3 * 2, 4, 5))},
]


@pytest.mark.parametrize("call", range(len(MHA_CALLS)))
@pytest.mark.parametrize("config", MHA_CONFIGS, ids=lambda c: "-".join(c) or "default")
def test_mha_matches_pytorch(config: dict[str, Any], call: int) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64, **config)
    ours = nn.MultiheadAttention(8, 2, dtype=F64, **config)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    if config.get("dropout"):
        ours.eval()
        theirs.eval()
    rng = np.random.default_rng(2)
    batch_first = config.get("batch_first", False)
    shapes = [(4, config.get("kdim", 8) * 0 + 8), (5, config.get("kdim", 8)),
              (5, config.get("vdim", 8))]
    values = [rng.standard_normal((3, *s) if batch_first else (s[0], 3, s[1])) for s in shapes]
    t_in = [torch.tensor(v, requires_grad=True) for v in values]
    a_in = [autodiff.tensor(v, requires_grad=True) for v in values]
    kwargs = MHA_CALLS[call]
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    a_kw = {k: autodiff.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_out, t_weights = theirs(*t_in, **t_kw)
    a_out, a_weights = ours(*a_in, **a_kw)
    np.testing.assert_allclose(_np(a_out), _np(t_out), atol=1e-12)
    assert a_out.grad_fn.name() == t_out.grad_fn.name()
    assert (a_weights is None) == (t_weights is None)
    loss_t, loss_a = (t_out * t_out).sum(), (a_out * a_out).sum()
    if t_weights is not None:
        np.testing.assert_allclose(_np(a_weights), _np(t_weights), atol=1e-12)
        loss_t, loss_a = loss_t + t_weights.sum() * 3, loss_a + a_weights.sum() * 3
    loss_t.backward()
    loss_a.backward()
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(mine.grad), _np(reference.grad), atol=1e-11,
                                   err_msg=name)
    for mine, reference in zip(a_in, t_in):
        np.testing.assert_allclose(_np(mine.grad), _np(reference.grad), atol=1e-11)


def test_mha_self_attention_causal_hint_and_unbatched() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    theirs = torch.nn.MultiheadAttention(8, 4, batch_first=True, dtype=torch.float64)
    ours = nn.MultiheadAttention(8, 4, batch_first=True, dtype=F64)
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    a_mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=F64)
    t_x, a_x = torch.tensor(x), autodiff.tensor(x)
    t_out = theirs(t_x, t_x, t_x, attn_mask=t_mask, is_causal=True, need_weights=False)[0]
    a_out = ours(a_x, a_x, a_x, attn_mask=a_mask, is_causal=True, need_weights=False)[0]
    np.testing.assert_allclose(_np(a_out), _np(t_out), atol=1e-12)
    t_one, t_w = theirs(t_x[0], t_x[0], t_x[0])
    a_one, a_w = ours(a_x[0], a_x[0], a_x[0])
    np.testing.assert_allclose(_np(a_one), _np(t_one), atol=1e-12)
    np.testing.assert_allclose(_np(a_w), _np(t_w), atol=1e-12)


def test_mha_parameters_and_init() -> None:
    autodiff.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, add_bias_kv=True)
    names = [name for name, _ in mha.named_parameters()]
    assert names == ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight",
                     "out_proj.bias"]
    assert tuple(mha.in_proj_weight.shape) == (48, 16) and mha._qkv_same_embed_dim
    bound = np.sqrt(6 / (16 + 48))  # xavier_uniform on the packed (3E, E) weight
    assert np.abs(_np(mha.in_proj_weight)).max() <= bound
    np.testing.assert_array_equal(_np(mha.in_proj_bias), 0)
    np.testing.assert_array_equal(_np(mha.out_proj.bias), 0)
    separate = nn.MultiheadAttention(16, 4, kdim=3, vdim=5, bias=False)
    assert [n for n, _ in separate.named_parameters()] == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"]
    assert tuple(separate.k_proj_weight.shape) == (16, 3) and separate.in_proj_weight is None
    assert type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"


def test_mha_on_every_device(device: str) -> None:
    autodiff.manual_seed(0)
    on_cpu = nn.MultiheadAttention(8, 2, kdim=6, dtype=F64)
    on_device = nn.MultiheadAttention(8, 2, kdim=6, dtype=F64)
    on_device.load_state_dict(on_cpu.state_dict())
    on_device.to(device)
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s) for s in ((4, 2, 8), (5, 2, 6), (5, 2, 8))]
    mask = rng.random((2, 5)) > 0.7
    outputs = []
    for module, where in ((on_cpu, "cpu"), (on_device, device)):
        inputs = [autodiff.tensor(v, device=where, requires_grad=True) for v in values]
        out, weights = module(*inputs, key_padding_mask=autodiff.tensor(mask, device=where))
        (out.sum() + weights.sum()).backward()
        outputs.append([_np(out), _np(weights)] + [_np(t.grad) for t in inputs])
    for mine, reference in zip(*outputs):
        np.testing.assert_allclose(mine, reference, atol=1e-12)


MHA_ERRORS: list[tuple[str, Callable[[Any], Any], type, str]] = [
    ("heads divide", lambda m: m.nn.MultiheadAttention(10, 3), AssertionError,
     "embed_dim must be divisible by num_heads"),
    ("embed_dim", lambda m: m.nn.MultiheadAttention(0, 2), ValueError,
     "embed_dim and num_heads must be greater than 0, got embed_dim=0 and num_heads=2 instead"),
    ("is_causal without mask", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 1, 4), m.zeros(3, 1, 4), m.zeros(3, 1, 4), is_causal=True), RuntimeError,
     "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
     "method `generate_square_subsequent_mask` to create this mask."),
    ("2-D mask shape", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 1, 4), m.zeros(5, 1, 4), m.zeros(5, 1, 4), attn_mask=m.zeros(3, 4)),
     RuntimeError, "The shape of the 2D attn_mask is torch.Size([3, 4]), but should be (3, 5)."),
    ("3-D mask shape", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 1, 4), m.zeros(5, 1, 4), m.zeros(5, 1, 4), attn_mask=m.zeros(1, 3, 5)),
     RuntimeError,
     "The shape of the 3D attn_mask is torch.Size([1, 3, 5]), but should be (2, 3, 5)."),
    ("key shape", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 1, 4), m.zeros(5, 1, 4), m.zeros(6, 1, 4)), AssertionError,
     "key shape torch.Size([5, 1, 4]) does not match value shape torch.Size([6, 1, 4])"),
    ("key dims", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 1, 4), m.zeros(5, 4), m.zeros(5, 4)), AssertionError,
     "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found 2-D and 2-D "
     "tensors respectively"),
    ("padding mask dims", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 1, 4), m.zeros(5, 1, 4), m.zeros(5, 1, 4),
        key_padding_mask=m.zeros(5, dtype=m.bool)), AssertionError,
     "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found 1-D "
     "tensor instead"),
    ("padding mask shape", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 2, 4), m.zeros(5, 2, 4), m.zeros(5, 2, 4),
        key_padding_mask=m.zeros(2, 4, dtype=m.bool)), AssertionError,
     "Expected key_padded_mask.shape[1] to be 5, but got 4"),
    ("mask type", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 1, 4), m.zeros(5, 1, 4), m.zeros(5, 1, 4),
        key_padding_mask=m.zeros(1, 5, dtype=m.int64)), AssertionError,
     "only bool and floating types of key_padding_mask are supported"),
    ("query dims", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(1, 3, 1, 4), m.zeros(5, 1, 4), m.zeros(5, 1, 4)), AssertionError,
     "query should be unbatched 2D or batched 3D tensor but received 4-D query tensor"),
    ("embed", lambda m: m.nn.MultiheadAttention(4, 2)(
        m.zeros(3, 1, 6), m.zeros(5, 1, 6), m.zeros(5, 1, 6)), AssertionError,
     "was expecting embedding dimension of 4, but got 6"),
]


@pytest.mark.parametrize(("name", "call", "kind", "message"), MHA_ERRORS,
                         ids=[case[0] for case in MHA_ERRORS])
def test_mha_errors(name: str, call: Callable[[Any], Any], kind: type, message: str) -> None:
    with pytest.raises(kind, match=re.escape(message)):
        call(autodiff)


@pytest.mark.parametrize(("name", "call", "kind", "message"), MHA_ERRORS,
                         ids=[case[0] for case in MHA_ERRORS])
def test_mha_errors_are_pytorchs(name: str, call: Callable[[Any], Any], kind: type,
                                 message: str) -> None:
    torch = pytest.importorskip("torch")
    assert same_error(lambda: call(autodiff), lambda: call(torch)) == message


def test_mha_warns_on_mismatched_mask_types() -> None:
    mha = nn.MultiheadAttention(4, 2)
    x = autodiff.zeros(3, 1, 4)
    with pytest.warns(UserWarning, match=re.escape(
            "Support for mismatched key_padding_mask and attn_mask is deprecated. Use same "
            "type for both instead.")):
        mha(x, x, x, key_padding_mask=autodiff.zeros(1, 3, dtype=autodiff.bool),
            attn_mask=autodiff.zeros(3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mha(x, x, x, key_padding_mask=autodiff.zeros(1, 3), attn_mask=autodiff.zeros(3, 3))


def test_mha_static_keys_and_separate_weights() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = {"q": (3, 2, 4), "k": (5, 2, 4), "v": (5, 2, 4), "w_q": (4, 4), "w_k": (4, 4),
              "w_v": (4, 4), "b": (12,), "w_out": (4, 4), "b_out": (4,), "static_k": (4, 5, 2),
              "static_v": (4, 5, 2)}
    values = {name: rng.standard_normal(shape) for name, shape in arrays.items()}
    results = []
    for library in (autodiff, torch):
        t = {name: library.tensor(value) for name, value in values.items()}
        function = (F if library is autodiff else torch.nn.functional)
        results.append([function.multi_head_attention_forward(
            t["q"], t["k"], t["v"], 4, 2, None, t["b"], None, None, False, 0.0, t["w_out"],
            t["b_out"], use_separate_proj_weight=True, q_proj_weight=t["w_q"],
            k_proj_weight=t["w_k"], v_proj_weight=t["w_v"], static_k=t["static_k"],
            static_v=t["static_v"], average_attn_weights=False)])
    for mine, reference in zip(_flat_pairs(results[0]), _flat_pairs(results[1])):
        np.testing.assert_allclose(_np(mine), _np(reference), atol=1e-12)


def _flat_pairs(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in _flat_pairs(part)]
    return [value]


def test_chunk_plan_covers_every_head() -> None:
    plan = attention_ops.AttentionPlan((3, 40), 2, 9, 7, 8)
    seen = [(outer, h) for outer, heads in plan.chunks() for h in range(heads.start, heads.stop)]
    assert sorted(seen) == [((o,), h) for o in range(3) for h in range(40)]
