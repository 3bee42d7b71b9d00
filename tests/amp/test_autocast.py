"""autocast on the CPU: every op of PyTorch's CPU lists that autodiff has gives the dtype its
policy says (and PyTorch gives, where installed), values within the low dtype's tolerance;
ops off the lists run unchanged; the weight-cast cache, nesting, decorators, custom_fwd/bwd,
gradients of float32 leaves, and the error and warning paths."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff

LOW_DTYPES = ("bfloat16", "float16")


def _inputs(lib: Any, shapes: list[Any], dtype: str) -> list[Any]:
    rng = np.random.default_rng(0)
    tensors = []
    for shape in shapes:
        if isinstance(shape, tuple) and shape and shape[0] == "int":
            tensors.append(lib.tensor(rng.integers(0, shape[2], shape[1]), dtype=lib.int64))
        elif isinstance(shape, tuple) and shape and shape[0] == "spd":
            a = rng.standard_normal((shape[1], shape[1]))
            tensors.append(lib.tensor(a @ a.T + shape[1] * np.eye(shape[1]),
                                      dtype=getattr(lib, dtype)))
        elif isinstance(shape, tuple) and shape and shape[0] == "prob":
            tensors.append(lib.tensor(rng.uniform(0.05, 0.95, shape[1]),
                                      dtype=getattr(lib, dtype)))
        else:
            tensors.append(lib.tensor(rng.uniform(-1, 1, shape), dtype=getattr(lib, dtype)))
    return tensors


def _pool_indices(lib: Any, x: Any, dims: int) -> Any:
    pool = getattr(lib.nn.functional, f"max_pool{dims}d")
    return pool(x, 2, return_indices=True)


# (name, policy, input shapes, function of (library, *inputs))
CASES: list[tuple[str, str, list[Any], Callable[..., Any]]] = [
    ("conv1d", "lower", [(2, 3, 8), (4, 3, 3)], lambda t, x, w: t.nn.functional.conv1d(x, w)),
    ("conv2d", "lower", [(2, 3, 6, 6), (4, 3, 3, 3)],
     lambda t, x, w: t.nn.functional.conv2d(x, w)),
    ("conv3d", "lower", [(1, 2, 4, 4, 4), (3, 2, 2, 2, 2)],
     lambda t, x, w: t.nn.functional.conv3d(x, w)),
    ("conv_transpose1d", "lower", [(2, 3, 5), (3, 4, 3)],
     lambda t, x, w: t.nn.functional.conv_transpose1d(x, w)),
    ("conv_transpose2d", "lower", [(2, 3, 4, 4), (3, 2, 3, 3)],
     lambda t, x, w: t.nn.functional.conv_transpose2d(x, w)),
    ("conv_transpose3d", "lower", [(1, 2, 3, 3, 3), (2, 2, 2, 2, 2)],
     lambda t, x, w: t.nn.functional.conv_transpose3d(x, w)),
    ("mm", "lower", [(3, 4), (4, 5)], lambda t, a, b: t.mm(a, b)),
    ("bmm", "lower", [(2, 3, 4), (2, 4, 5)], lambda t, a, b: t.bmm(a, b)),
    ("matmul", "lower", [(2, 3, 4), (4, 5)], lambda t, a, b: t.matmul(a, b)),
    ("matmul operator", "lower", [(3, 4), (4,)], lambda t, a, b: a @ b),
    ("linear", "lower", [(3, 4), (5, 4), (5,)], lambda t, x, w, b: t.nn.functional.linear(x, w, b)),
    ("avg_pool3d", "fp32", [(1, 2, 4, 4, 4)], lambda t, x: t.nn.functional.avg_pool3d(x, 2)),
    ("max_pool3d", "fp32", [(1, 2, 4, 4, 4)], lambda t, x: t.nn.functional.max_pool3d(x, 2)),
    ("max_pool3d with indices", None, [(1, 2, 4, 4, 4)],
     lambda t, x: t.nn.functional.max_pool3d(x, 2, return_indices=True)[0]),
    ("adaptive_avg_pool3d", "fp32", [(1, 2, 4, 4, 4)],
     lambda t, x: t.nn.functional.adaptive_avg_pool3d(x, 2)),
    ("adaptive_max_pool3d", "fp32", [(1, 2, 4, 4, 4)],
     lambda t, x: t.nn.functional.adaptive_max_pool3d(x, 2)),
    ("max_unpool2d", "fp32", [(1, 2, 4, 4)],
     lambda t, x: t.nn.functional.max_unpool2d(*_pool_indices(t, x, 2), 2)),
    ("max_unpool3d", "fp32", [(1, 2, 4, 4, 4)],
     lambda t, x: t.nn.functional.max_unpool3d(*_pool_indices(t, x, 3), 2)),
    ("reflection_pad1d", "fp32", [(2, 3, 5)],
     lambda t, x: t.nn.functional.pad(x, (1, 2), mode="reflect")),
    ("reflection_pad2d", "fp32", [(2, 3, 5, 5)],
     lambda t, x: t.nn.functional.pad(x, (1, 2, 2, 1), mode="reflect")),
    ("reflection_pad3d (not on the list)", None, [(1, 2, 3, 4, 4)],
     lambda t, x: t.nn.functional.pad(x, (1, 1, 1, 1, 1, 1), mode="reflect")),
    ("replication_pad1d", "fp32", [(2, 3, 5)],
     lambda t, x: t.nn.functional.pad(x, (1, 2), mode="replicate")),
    ("replication_pad2d", "fp32", [(2, 3, 5, 5)],
     lambda t, x: t.nn.functional.pad(x, (1, 2, 2, 1), mode="replicate")),
    ("replication_pad3d", "fp32", [(1, 2, 3, 4, 4)],
     lambda t, x: t.nn.functional.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate")),
    ("constant pad", None, [(2, 3, 5)], lambda t, x: t.nn.functional.pad(x, (1, 2))),
    ("grid_sample", "fp32", [(1, 2, 4, 4), (1, 3, 3, 2)],
     lambda t, x, g: t.nn.functional.grid_sample(x, g, align_corners=False)),
    ("binary_cross_entropy", "fp32", [("prob", (4, 3)), ("prob", (4, 3))],
     lambda t, p, y: t.nn.functional.binary_cross_entropy(p, y)),
    ("binary_cross_entropy_with_logits", "fp32", [(4, 3), ("prob", (4, 3))],
     lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, y)),
    ("mse_loss", "fp32", [(4, 3), (4, 3)], lambda t, a, b: t.nn.functional.mse_loss(a, b)),
    ("l1_loss", "fp32", [(4, 3), (4, 3)], lambda t, a, b: t.nn.functional.l1_loss(a, b)),
    ("smooth_l1_loss", "fp32", [(4, 3), (4, 3)],
     lambda t, a, b: t.nn.functional.smooth_l1_loss(a, b)),
    ("huber_loss", "fp32", [(4, 3), (4, 3)], lambda t, a, b: t.nn.functional.huber_loss(a, b)),
    ("kl_div", "fp32", [(4, 3), ("prob", (4, 3))],
     lambda t, a, b: t.nn.functional.kl_div(a, b, reduction="batchmean")),
    ("nll_loss", "fp32", [(4, 3), ("int", (4,), 3)],
     lambda t, x, y: t.nn.functional.nll_loss(x, y)),
    ("cross_entropy", "fp32", [(4, 3), ("int", (4,), 3)],
     lambda t, x, y: t.nn.functional.cross_entropy(x, y)),
    ("prod", "fp32", [(3, 4)], lambda t, x: t.prod(x)),
    ("prod dim", "fp32", [(3, 4)], lambda t, x: x.prod(1)),
    ("quantile", "fp32", [(3, 4), ("prob", (2,))], lambda t, x, q: t.quantile(x, q, dim=1)),
    ("nanquantile", "fp32", [(3, 4)], lambda t, x: t.nanquantile(x, 0.3)),
    ("trace", "fp32", [(4, 4)], lambda t, x: t.trace(x)),
    ("inverse", "fp32", [("spd", 3)], lambda t, x: t.inverse(x)),
    ("linalg_inv", "fp32", [("spd", 3)], lambda t, x: t.linalg.inv(x)),
    ("linalg_cholesky", "fp32", [("spd", 3)], lambda t, x: t.linalg.cholesky(x)),
    ("linalg_solve", "fp32", [("spd", 3), (3, 2)], lambda t, a, b: t.linalg.solve(a, b)),
    ("cat", "promote", [(2, 3), (1, 3)], lambda t, a, b: t.cat([a, b])),
    ("stack", "promote", [(2, 3), (2, 3)], lambda t, a, b: t.stack([a, b])),
    ("index_copy", "promote", [(4, 3), (2, 3)],
     lambda t, x, s: x.index_copy(0, t.tensor([0, 2]), s)),
    ("einsum with a contraction", "lower", [(3, 4), (4, 5)],
     lambda t, a, b: t.einsum("ij,jk->ik", a, b)),
    ("tensordot", "lower", [(3, 4), (4, 5)], lambda t, a, b: t.tensordot(a, b, 1)),
    ("inner", "lower", [(3, 4), (5, 4)], lambda t, a, b: t.inner(a, b)),
    ("addmm", "lower", [(3, 5), (3, 4), (4, 5)], lambda t, c, a, b: t.addmm(c, a, b)),
    ("baddbmm", "lower", [(2, 3, 5), (2, 3, 4), (2, 4, 5)],
     lambda t, c, a, b: t.baddbmm(c, a, b)),
    ("addbmm", "lower", [(3, 5), (2, 3, 4), (2, 4, 5)], lambda t, c, a, b: t.addbmm(c, a, b)),
    ("prelu", "lower", [(2, 3, 4), (3,)], lambda t, x, w: t.nn.functional.prelu(x, w)),
    ("scaled_dot_product_attention", "lower", [(1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4)],
     lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v)),
    ("cdist", "fp32", [(3, 4), (5, 4)], lambda t, a, b: t.cdist(a, b)),
    ("cosine_embedding_loss", "fp32", [(3, 4), (3, 4)],
     lambda t, a, b: t.nn.functional.cosine_embedding_loss(a, b, t.tensor([1, -1, 1]))),
    ("hinge_embedding_loss", "fp32", [(3, 4)],
     lambda t, a: t.nn.functional.hinge_embedding_loss(a, t.ones(3, 4))),
    ("margin_ranking_loss", "fp32", [(4,), (4,)],
     lambda t, a, b: t.nn.functional.margin_ranking_loss(a, b, t.ones(4))),
    ("soft_margin_loss", "fp32", [(3, 4)],
     lambda t, a: t.nn.functional.soft_margin_loss(a, t.ones(3, 4))),
    ("multi_margin_loss", "fp32", [(3, 4)],
     lambda t, a: t.nn.functional.multi_margin_loss(a, t.tensor([0, 3, 1]))),
    ("multilabel_margin_loss", "fp32", [(2, 4)],
     lambda t, a: t.nn.functional.multilabel_margin_loss(a, t.tensor([[3, 0, -1, 1],
                                                                        [1, 2, 3, -1]]))),
    ("triplet_margin_loss", "fp32", [(3, 4), (3, 4), (3, 4)],
     lambda t, a, p, n: t.nn.functional.triplet_margin_loss(a, p, n)),
    ("poisson_nll_loss", "fp32", [(3, 4), ("prob", (3, 4))],
     lambda t, a, b: t.nn.functional.poisson_nll_loss(a, b)),
    ("fft_rfft", "fp32", [(8,)], lambda t, x: t.fft.rfft(x).abs()),
    # Off the CPU lists: run as they are.
    ("einsum without a contraction", None, [(3,), (4,)],
     lambda t, a, b: t.einsum("i,j->ij", a, b)),
    ("einsum of one operand", None, [(3, 4)], lambda t, a: t.einsum("ij->ji", a)),
    ("inner of vectors", None, [(4,), (4,)], lambda t, a, b: t.inner(a, b)),
    ("dot", None, [(4,), (4,)], lambda t, a, b: t.dot(a, b)),
    ("mv", None, [(3, 4), (4,)], lambda t, a, b: t.mv(a, b)),
    ("exp", None, [(3, 4)], lambda t, x: t.exp(x)),
    ("sum", None, [(3, 4)], lambda t, x: t.sum(x)),
    ("softmax", None, [(3, 4)], lambda t, x: t.softmax(x, 1)),
    ("layer_norm", None, [(3, 4)], lambda t, x: t.nn.functional.layer_norm(x, (4,))),
    ("add", None, [(3, 4), (3, 4)], lambda t, a, b: a + b),
]


def _expected(policy: str | None, input_dtypes: list[str], low: str) -> str:
    floating = [d for d in input_dtypes if d in ("float16", "bfloat16", "float32")]
    if policy == "lower":
        return low
    if policy == "fp32":
        return "float32"
    if policy == "promote":
        return "float32" if "float32" in floating else low
    return floating[0]  # unchanged (every case's inputs share one dtype then)


def _run(lib: Any, case: Any, dtype: str, low: str) -> Any:
    _, _, shapes, function = case
    inputs = _inputs(lib, shapes, dtype)
    with lib.autocast("cpu", dtype=getattr(lib, low)):
        return function(lib, *inputs)


@pytest.mark.parametrize("low", LOW_DTYPES)
@pytest.mark.parametrize("input_dtype", ["float32", "low"])
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_autocast_cpu_op_dtypes(case: Any, input_dtype: str, low: str) -> None:
    name, policy, _, _ = case
    dtype = low if input_dtype == "low" else input_dtype
    if dtype in LOW_DTYPES and name.startswith(("inverse", "linalg")):
        pytest.skip("PyTorch's linalg refuses low-precision inputs before autocast can matter")
    out = _run(autodiff, case, dtype, low)
    assert out.dtype.name == _expected(policy, [dtype], low)
    torch = pytest.importorskip("torch")
    reference = _run(torch, case, dtype, low)
    assert str(out.dtype) == str(reference.dtype)
    tolerance = 2e-2 if out.dtype.name != "float32" or dtype != "float32" else 1e-4
    np.testing.assert_allclose(out.float().detach().numpy(),
                               reference.float().detach().numpy(), rtol=tolerance,
                               atol=tolerance)


@pytest.mark.parametrize("low", LOW_DTYPES)
def test_promote_mixes_low_and_float32_inputs(low: str) -> None:
    kind = getattr(autodiff, low)
    a, b = autodiff.ones(2, 3, dtype=kind), autodiff.ones(1, 3)
    with autodiff.autocast("cpu", dtype=kind):
        assert autodiff.cat([a, a]).dtype is kind
        assert autodiff.cat([a, b]).dtype is autodiff.float32
        assert autodiff.stack([a, a.double()]).dtype is autodiff.float64  # float64 never cast
    other = autodiff.float16 if kind is autodiff.bfloat16 else autodiff.bfloat16
    with autodiff.autocast("cpu", dtype=kind), pytest.raises(
            RuntimeError, match="Unexpected floating ScalarType in at::autocast::prioritize"):
        autodiff.cat([a, autodiff.ones(1, 3, dtype=other)])


def test_float64_and_integer_inputs_are_not_cast() -> None:
    a = autodiff.ones(3, 3, dtype=autodiff.float64)
    with autodiff.autocast("cpu"):
        assert autodiff.mm(a, a).dtype is autodiff.float64
        assert autodiff.nn.functional.mse_loss(a, a).dtype is autodiff.float64
        index = autodiff.tensor([0, 1])
        assert autodiff.cat([index, index]).dtype is autodiff.int64


def test_gradients_of_float32_leaves_arrive_in_float32() -> None:
    torch = pytest.importorskip("torch")
    results = []
    for lib in (autodiff, torch):
        lib.manual_seed(0)
        x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype=lib.float32,
                       requires_grad=True)
        w = lib.tensor(np.linspace(0.5, -0.5, 20).reshape(5, 4), dtype=lib.float32,
                       requires_grad=True)
        with lib.autocast("cpu"):
            hidden = lib.nn.functional.linear(x, w)
            loss = lib.nn.functional.mse_loss(hidden, lib.zeros(3, 5))
        assert hidden.dtype is lib.bfloat16 and loss.dtype is lib.float32
        loss.backward()
        assert x.grad.dtype is lib.float32 and w.grad.dtype is lib.float32
        results.append((loss.item(), x.grad.numpy(), w.grad.numpy()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-6)


def test_backward_ops_run_in_the_dtype_the_forward_used() -> None:
    seen = []

    class Probe(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x.clone()

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            seen.append(grad.dtype)
            return grad

    w = autodiff.ones(4, 4, requires_grad=True)
    with autodiff.autocast("cpu"):
        out = Probe.apply(autodiff.mm(autodiff.ones(2, 4), w))
    out.float().sum().backward()
    assert seen == [autodiff.bfloat16]
    assert w.grad.dtype is autodiff.float32


def test_weight_casts_are_cached_within_a_region() -> None:
    w = autodiff.ones(4, 4, requires_grad=True)
    x = autodiff.ones(2, 4)
    with autodiff.autocast("cpu"):
        a, b = autodiff.mm(x, w), autodiff.mm(x, w)
        cast_a, cast_b = a.grad_fn.next_functions[1][0], b.grad_fn.next_functions[1][0]
        assert cast_a.name() == "ToCopyBackward0" and cast_a is cast_b
        with autodiff.autocast("cpu"):  # nested: the same cache
            assert autodiff.mm(x, w).grad_fn.next_functions[1][0] is cast_a
    with autodiff.autocast("cpu"):  # a new outermost region: a new cast
        assert autodiff.mm(x, w).grad_fn.next_functions[1][0] is not cast_a
    with autodiff.autocast("cpu", cache_enabled=False):
        c, d = autodiff.mm(x, w), autodiff.mm(x, w)
        assert c.grad_fn.next_functions[1][0] is not d.grad_fn.next_functions[1][0]
    (a.float().sum() + b.float().sum()).backward()
    assert w.grad.tolist() == [[4.0] * 4] * 4


def test_state_functions_nesting_and_restoring() -> None:
    assert not autodiff.is_autocast_enabled("cpu")
    assert autodiff.get_autocast_dtype("cpu") is autodiff.bfloat16
    assert autodiff.get_autocast_dtype("cuda") is autodiff.float16
    with autodiff.autocast("cpu", dtype=autodiff.float16):
        assert autodiff.is_autocast_enabled("cpu")
        assert autodiff.get_autocast_dtype("cpu") is autodiff.float16
        with autodiff.autocast("cpu", enabled=False):
            assert not autodiff.is_autocast_enabled("cpu")
            assert autodiff.mm(autodiff.ones(2, 2), autodiff.ones(2, 2)).dtype is autodiff.float32
        assert autodiff.is_autocast_enabled("cpu")
    assert not autodiff.is_autocast_enabled("cpu")
    assert autodiff.get_autocast_dtype("cpu") is autodiff.bfloat16
    assert autodiff.is_autocast_cache_enabled()
    assert autodiff.amp.is_autocast_available("cpu")
    assert not autodiff.amp.is_autocast_available("strict")


def test_autocast_as_a_decorator() -> None:
    @autodiff.autocast("cpu")
    def forward(a: Any) -> Any:
        return a @ a

    assert forward(autodiff.ones(2, 2)).dtype is autodiff.bfloat16
    assert not autodiff.is_autocast_enabled("cpu")
    with pytest.raises(TypeError, match=r"autocast\(\)\(func\) requires a callable, but got int"):
        autodiff.autocast("cpu")(3)  # type: ignore[arg-type]


def test_other_devices_are_left_alone(device: str) -> None:
    if device == "cpu":
        pytest.skip("the CPU is autocast's device here")
    a = autodiff.ones(2, 2, device=device)
    with autodiff.autocast("cpu"):
        assert autodiff.mm(a, a).dtype is autodiff.float32


def test_errors_and_warnings_match_pytorch() -> None:
    with pytest.raises(ValueError,
                       match="Expected `device_type` of type `str`, got: `<class 'int'>`"):
        autodiff.autocast(0)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="device type at start of device string: tpu"):
        autodiff.autocast("tpu")
    with pytest.raises(RuntimeError,
                       match="User specified an unsupported autocast device_type 'strict'"):
        autodiff.autocast("strict")
    with pytest.raises(RuntimeError, match="unknown device type for autocast"):
        autodiff.is_autocast_enabled("strict")
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not "
                      "supported. Disabling autocast.\nCPU Autocast only supports dtypes of "
                      "torch.bfloat16, torch.float16 currently."):
        region = autodiff.autocast("cpu", dtype=autodiff.float64)
    with region:
        assert not autodiff.is_autocast_enabled("cpu")
    if not autodiff.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            autodiff.autocast("cuda")


def test_deprecated_spellings_warn_as_pytorch() -> None:
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated. "
                      r"Please use `torch.amp.autocast\('cpu', args...\)` instead."):
        region = autodiff.cpu.amp.autocast()
    with region:
        assert autodiff.get_autocast_dtype("cpu") is autodiff.bfloat16
        assert autodiff.is_autocast_enabled("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.autocast\(args...\)`"):
            autodiff.cuda.amp.autocast()
        with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.GradScaler\(args...\)`"):
            autodiff.cuda.amp.GradScaler()
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.GradScaler\(args...\)`"):
        assert autodiff.cpu.amp.GradScaler().is_enabled()
    from autodiff.cuda.amp import custom_bwd, custom_fwd  # importable as PyTorch's are
    with pytest.warns(FutureWarning, match="torch.cuda.amp.custom_fwd"):
        custom_fwd(lambda ctx, x: x)
    with pytest.warns(FutureWarning, match="torch.cuda.amp.custom_bwd"):
        custom_bwd(lambda ctx, g: g)


def test_custom_fwd_casts_inputs_and_custom_bwd_restores_the_state() -> None:
    states = []

    class Double(autodiff.autograd.Function):
        @staticmethod
        @autodiff.amp.custom_fwd(device_type="cpu", cast_inputs=autodiff.float32)
        def forward(ctx: Any, x: Any) -> Any:
            states.append(("forward", x.dtype, autodiff.is_autocast_enabled("cpu")))
            return x * 2

        @staticmethod
        @autodiff.amp.custom_bwd(device_type="cpu")
        def backward(ctx: Any, grad: Any) -> Any:
            states.append(("backward", grad.dtype, autodiff.is_autocast_enabled("cpu")))
            return grad * 2

    x = autodiff.ones(3, dtype=autodiff.bfloat16, requires_grad=True)
    with autodiff.autocast("cpu"):
        y = Double.apply(x)
    y.sum().backward()
    assert states == [("forward", autodiff.float32, False),
                      ("backward", autodiff.float32, False)]
    assert x.grad.dtype is autodiff.bfloat16


def test_deprecated_state_functions_warn_as_pytorch() -> None:
    with pytest.warns(DeprecationWarning, match=r"torch.is_autocast_cpu_enabled\(\) is "
                      r"deprecated. Please use torch.is_autocast_enabled\('cpu'\) instead."):
        assert not autodiff.is_autocast_cpu_enabled()
    with pytest.warns(DeprecationWarning, match=r"torch.set_autocast_cpu_enabled\(enabled\)"):
        autodiff.set_autocast_cpu_enabled(False)
    with pytest.warns(DeprecationWarning, match=r"torch.get_autocast_cpu_dtype\(\)"):
        assert autodiff.get_autocast_cpu_dtype() is autodiff.bfloat16
    with pytest.warns(DeprecationWarning, match=r"torch.set_autocast_cpu_dtype\(dtype\)"):
        autodiff.set_autocast_cpu_dtype(autodiff.bfloat16)
    with pytest.warns(DeprecationWarning, match=r"get_autocast_dtype\('cuda'\)"):
        assert autodiff.get_autocast_gpu_dtype() is autodiff.float16
    with pytest.warns(DeprecationWarning, match=r"torch.set_autocast_gpu_dtype\(dtype\)"):
        autodiff.set_autocast_gpu_dtype(autodiff.float16)


def test_device_strings_with_an_index() -> None:
    with autodiff.autocast("cpu:0"):
        assert autodiff.is_autocast_enabled("cpu:0") and autodiff.is_autocast_enabled("cpu")
        assert autodiff.mm(autodiff.ones(2, 2), autodiff.ones(2, 2)).dtype is autodiff.bfloat16


def test_autocast_state_is_per_thread() -> None:
    import threading

    seen = []
    with autodiff.autocast("cpu"):
        thread = threading.Thread(target=lambda: seen.append(autodiff.is_autocast_enabled("cpu")))
        thread.start()
        thread.join()
    assert seen == [False]


@pytest.fixture
def cuda_lists_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CUDA lists' policies the CPU has none of (fp32_set_opt_dtype, fp32_append_dtype,
    banned, CUDA's fp32 and promote ops), exercised on CPU tensors: CUDA's table in place of
    the CPU's."""
    from autodiff import autocast_lists

    monkeypatch.setitem(autocast_lists.POLICIES, "cpu", autocast_lists.POLICIES["cuda"])


def test_cuda_policies(cuda_lists_on_the_cpu: None) -> None:
    half, single = autodiff.float16, autodiff.float32
    x = autodiff.rand(3, 4, dtype=half)
    with autodiff.autocast("cpu", dtype=half):
        # fp32_set_opt_dtype: float32 unless the caller gave a dtype; ineligible inputs alone
        assert x.sum().dtype is single and autodiff.sum(x, 0).dtype is single
        assert x.sum(dtype=half).dtype is half
        assert autodiff.ones(3, dtype=autodiff.int64).sum().dtype is autodiff.int64
        assert autodiff.softmax(x, 0).dtype is single
        assert autodiff.nn.functional.log_softmax(x, 1, dtype=autodiff.float64).dtype is (
            autodiff.float64)
        assert x.cumsum(0).dtype is single and x.prod().dtype is single
        assert autodiff.linalg.vector_norm(x).dtype is single
        # fp32_append_dtype: torch.norm of an eligible input in float32, else its own dtype
        assert autodiff.norm(x).dtype is single
        assert autodiff.norm(x.double()).dtype is autodiff.float64
        # fp32
        for out in (x.exp(), x.log(), x ** 2, 2 ** x, x.pow(x), x.reciprocal(), x.rsqrt(),
                    autodiff.nn.functional.layer_norm(x, (4,)), x.logsumexp(0),
                    autodiff.nn.functional.softplus(x),
                    autodiff.nn.functional.interpolate(x[None], scale_factor=2.0,
                                                       mode="linear")):
            assert out.dtype is single
        # lower_precision_fp, einsum included (listed itself on CUDA)
        w = autodiff.rand(4, 4)
        assert autodiff.einsum("i,j->ij", w[0], w[1]).dtype is half
        assert autodiff.mv(w, w[0]).dtype is half
        # promote
        assert autodiff.addcmul(x, x.float(), x).dtype is single
        assert autodiff.addcmul(x, x, x).dtype is half
        assert autodiff.dot(x[0], x[0]).dtype is half
        # banned
        with pytest.raises(RuntimeError, match=r"binary_cross_entropy and torch\.nn\.BCELoss are "
                           r"unsafe to autocast"):
            autodiff.nn.functional.binary_cross_entropy(x.sigmoid(), x.sigmoid())
