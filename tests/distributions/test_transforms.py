"""Transforms: forward, inverse and log |det J| against PyTorch (with gradients), against the
Jacobian computed by autodiff itself (no PyTorch needed), round trips, shapes, caching,
equality, reprs, and biject_to/transform_to onto every registered constraint."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.distributions import constraints, transforms

_RNG = np.random.default_rng(5)


def _spd(n: int) -> np.ndarray:
    a = _RNG.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


@dataclass
class Example:
    name: str
    make: Callable[[Any], Any]  # (the library's distributions module) -> transform
    x: np.ndarray  # an input in the domain


def _tensor(D: Any, values: Any) -> Any:
    lib = autodiff if D is autodiff.distributions else __import__("torch")
    return lib.tensor(np.asarray(values, dtype=np.float64))


EXAMPLES = [
    Example("Exp", lambda D: D.ExpTransform(), _RNG.standard_normal((2, 3))),
    Example("Power", lambda D: D.PowerTransform(_tensor(D, [0.5, 2.0, -1.5])),
            _RNG.uniform(0.2, 2.0, (2, 3))),
    Example("Sigmoid", lambda D: D.SigmoidTransform(), _RNG.standard_normal((2, 3))),
    Example("Softplus", lambda D: D.SoftplusTransform(), _RNG.standard_normal((2, 3))),
    Example("Tanh", lambda D: D.TanhTransform(), _RNG.standard_normal((2, 3))),
    Example("Abs", lambda D: D.AbsTransform(), _RNG.standard_normal((2, 3))),
    Example("Affine", lambda D: D.AffineTransform(1.5, -2.0), _RNG.standard_normal((2, 3))),
    Example("Affine_tensor", lambda D: D.AffineTransform(
        _tensor(D, [0.0, 1.0, 2.0]), _tensor(D, [0.5, -3.0, 2.0]), event_dim=1),
        _RNG.standard_normal((2, 3))),
    Example("Compose", lambda D: D.ComposeTransform([D.AffineTransform(0.5, 2.0),
                                                    D.ExpTransform()]),
            _RNG.standard_normal((2, 3))),
    Example("Identity", lambda D: D.identity_transform, _RNG.standard_normal((2, 3))),
    Example("Independent", lambda D: D.IndependentTransform(D.SigmoidTransform(), 1),
            _RNG.standard_normal((2, 3))),
    Example("Reshape", lambda D: D.ReshapeTransform((2, 3), (6,)),
            _RNG.standard_normal((4, 2, 3))),
    Example("CorrCholesky", lambda D: D.CorrCholeskyTransform(), _RNG.standard_normal((2, 6))),
    Example("Softmax", lambda D: D.SoftmaxTransform(), _RNG.standard_normal((2, 4))),
    Example("StickBreaking", lambda D: D.StickBreakingTransform(),
            _RNG.standard_normal((2, 3))),
    Example("LowerCholesky", lambda D: D.LowerCholeskyTransform(),
            _RNG.standard_normal((2, 3, 3))),
    Example("PositiveDefinite", lambda D: D.PositiveDefiniteTransform(),
            _RNG.standard_normal((2, 3, 3))),
    Example("Cat", lambda D: D.CatTransform([D.ExpTransform(), D.AffineTransform(1.0, 3.0)],
                                            dim=1, lengths=[2, 1]),
            _RNG.standard_normal((2, 3))),
    Example("Cat_event", lambda D: D.CatTransform(
        [D.IndependentTransform(D.ExpTransform(), 1), D.AffineTransform(0.0, 2.0, 1)],
        dim=-1, lengths=[2, 2]), _RNG.standard_normal((2, 4))),
    Example("Stack", lambda D: D.StackTransform([D.ExpTransform(), D.SigmoidTransform()],
                                                dim=1),
            _RNG.standard_normal((3, 2))),
    Example("CumulativeDistribution", lambda D: D.CumulativeDistributionTransform(
        D.Normal(_tensor(D, 0.5), _tensor(D, 2.0))), _RNG.standard_normal((2, 3))),
    Example("Inverse_Sigmoid", lambda D: D.SigmoidTransform().inv,
            _RNG.uniform(0.05, 0.95, (2, 3))),
    Example("Inverse_StickBreaking", lambda D: D.StickBreakingTransform().inv,
            np.array([[0.2, 0.3, 0.1, 0.4]])),
]

NOT_INJECTIVE = {"Abs", "Softmax", "LowerCholesky", "PositiveDefinite"}


def _numpy(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_against_pytorch(example: Example) -> None:
    torch = pytest.importorskip("torch")
    theirs, ours = example.make(torch.distributions), example.make(autodiff.distributions)
    x_t = torch.tensor(example.x, requires_grad=True)
    x_a = autodiff.tensor(example.x, requires_grad=True)
    y_t, y_a = theirs(x_t), ours(x_a)
    np.testing.assert_allclose(_numpy(y_a), _numpy(y_t), rtol=1e-12, atol=1e-14)
    assert repr(ours) == repr(theirs)
    assert repr(ours.domain) == repr(theirs.domain)
    assert repr(ours.codomain) == repr(theirs.codomain)
    assert ours.bijective == theirs.bijective
    for shape in (tuple(x_t.shape), (5, *x_t.shape)):
        assert tuple(ours.forward_shape(shape)) == tuple(theirs.forward_shape(shape))
    y_shape = tuple(y_t.shape)
    assert tuple(ours.inverse_shape(y_shape)) == tuple(theirs.inverse_shape(y_shape))
    try:
        their_sign = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.sign  # noqa: B018
    else:
        np.testing.assert_array_equal(np.asarray(ours.sign if isinstance(ours.sign, int)
                                                 else _numpy(ours.sign)),
                                      np.asarray(their_sign if isinstance(their_sign, int)
                                                 else their_sign.numpy()))

    y_value = _numpy(y_t)
    x_back_t = theirs.inv(torch.tensor(y_value))
    x_back_a = ours.inv(autodiff.tensor(y_value))
    np.testing.assert_allclose(_numpy(x_back_a), _numpy(x_back_t), rtol=1e-10, atol=1e-12)

    try:
        ladj_t = theirs.log_abs_det_jacobian(x_t, y_t)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.log_abs_det_jacobian(x_a, y_a)
        ladj_t = ladj_a = None
    else:
        ladj_a = ours.log_abs_det_jacobian(x_a, y_a)
        np.testing.assert_allclose(_numpy(ladj_a), _numpy(ladj_t), rtol=1e-10, atol=1e-12)
    # Gradients through the forward map and the log |det J|.
    upstream = np.random.default_rng(0).standard_normal(y_value.shape)
    total_t = (y_t * torch.tensor(upstream)).sum() + (ladj_t.sum() if ladj_t is not None else 0)
    total_a = (y_a * autodiff.tensor(upstream)).sum() + (ladj_a.sum() if ladj_a is not None
                                                        else 0)
    total_t.backward()
    total_a.backward()
    np.testing.assert_allclose(_numpy(x_a.grad), _numpy(x_t.grad), rtol=1e-9, atol=1e-12)


def _jacobian_log_det(transform: Any, x: np.ndarray, name: str) -> np.ndarray:
    """log |det dy/dx| of one event, from autodiff's Jacobian of the forward map, restricted
    to the coordinates the transform is a bijection of."""
    def forward(v: autodiff.Tensor) -> autodiff.Tensor:
        y = transform(v)
        if name == "StickBreaking":
            return y[..., :-1]  # K - 1 coordinates determine the simplex point
        if name == "CorrCholesky":
            n = y.shape[-1]
            rows, cols = np.tril_indices(n, -1)
            return y[..., autodiff.tensor(rows), autodiff.tensor(cols)]
        return y.reshape(-1)

    jacobian = autodiff.autograd.functional.jacobian(forward, autodiff.tensor(x)).numpy()
    square = jacobian.reshape(jacobian.shape[0] if jacobian.ndim > 1 else 1, -1)
    return np.linalg.slogdet(square)[1]  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["Exp", "Power", "Sigmoid", "Softplus", "Tanh", "Affine",
                                  "Affine_tensor", "Compose", "Independent", "CorrCholesky",
                                  "StickBreaking", "CumulativeDistribution"])
def test_log_abs_det_jacobian_is_the_jacobians(name: str) -> None:
    """One event at a time: the transform's own log |det J| against the determinant of the
    Jacobian autodiff computes of its forward map."""
    example = next(e for e in EXAMPLES if e.name == name)
    transform = example.make(autodiff.distributions)
    x = example.x[0]
    y = transform(autodiff.tensor(x))
    ladj = transform.log_abs_det_jacobian(autodiff.tensor(x), y).numpy()
    total = ladj.sum() if transform.domain.event_dim == 0 else ladj
    np.testing.assert_allclose(total, _jacobian_log_det(transform, x, name), rtol=1e-9,
                               atol=1e-10)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.name not in NOT_INJECTIVE],
                         ids=lambda e: e.name)
def test_inverse_undoes_forward(example: Example, device: str) -> None:
    transform = example.make(autodiff.distributions)
    if example.name in ("Power", "Affine_tensor", "CumulativeDistribution"):
        transform = _on(transform, device)
    x = autodiff.tensor(example.x, device=device)
    y = transform(x)
    assert str(y.device) == device
    np.testing.assert_allclose(_numpy(transform.inv(y)), example.x, rtol=1e-9, atol=1e-9)


def _on(transform: Any, device: str) -> Any:
    D = autodiff.distributions
    if isinstance(transform, D.PowerTransform):
        return D.PowerTransform(transform.exponent.to(device))
    if isinstance(transform, D.AffineTransform):
        return D.AffineTransform(transform.loc.to(device), transform.scale.to(device),
                                 transform.event_dim)
    dist = transform.distribution
    return D.CumulativeDistributionTransform(D.Normal(dist.loc.to(device),
                                                      dist.scale.to(device)))


def test_cache_returns_the_cached_input_and_output() -> None:
    t = transforms.TanhTransform(cache_size=1)
    x = autodiff.tensor([30.0, 0.5], dtype=autodiff.float64)
    y = t(x)
    assert t.inv(y) is x  # atanh(tanh(30)) would be inf
    assert t(x) is y
    assert t.with_cache(1) is t and t.with_cache(0)._cache_size == 0
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        transforms.ExpTransform(cache_size=2)
    with pytest.raises(NotImplementedError, match="with_cache is not implemented"):
        transforms.Transform.with_cache(_CustomInit(), 1)


class _CustomInit(transforms.Transform):
    def __init__(self) -> None:
        super().__init__()


def test_equality_inverse_and_event_dim() -> None:
    t = transforms
    assert t.ExpTransform() == t.ExpTransform() and t.ExpTransform() != t.SigmoidTransform()
    assert t.ExpTransform().inv == t.ExpTransform().inv
    assert t.ExpTransform().inv.inv == t.ExpTransform()
    exp = t.ExpTransform()
    assert exp.inv.inv is exp
    assert t.AffineTransform(1.0, 2.0) == t.AffineTransform(1.0, 2.0)
    assert t.AffineTransform(1.0, 2.0) != t.AffineTransform(1.0, 3.0)
    assert t.ComposeTransform([exp]) == t.ComposeTransform([t.ExpTransform()])
    assert t.AffineTransform(0.0, 1.0, event_dim=2).event_dim == 2
    with pytest.raises(ValueError, match=r"Please use either \.domain\.event_dim or "
                                         r"\.codomain\.event_dim"):
        t.CorrCholeskyTransform().event_dim  # noqa: B018
    assert t.StickBreakingTransform().event_dim == 1
    assert t.AffineTransform(1.0, -2.0).sign == -1
    assert t.ComposeTransform([t.AffineTransform(1.0, -2.0), exp]).sign == -1
    with pytest.raises(ValueError, match="in_shape, out_shape have different numbers"):
        t.ReshapeTransform((2, 3), (5,))


def test_transformed_distribution_cdf_of_decreasing_transforms() -> None:
    D = autodiff.distributions
    base = D.Normal(autodiff.tensor(0.0), autodiff.tensor(1.0))
    flipped = D.TransformedDistribution(base, [D.AffineTransform(0.0, -1.0)])
    x = autodiff.tensor([-1.0, 0.3])
    np.testing.assert_allclose(flipped.cdf(x).numpy(), 1 - base.cdf(-x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(flipped.icdf(flipped.cdf(x)).numpy(), x.numpy(), rtol=1e-5)
    assert math.isclose(float(flipped.log_prob(x)[1]), float(base.log_prob(-x)[1]))


# ----------------------------------------------------------------------------- registries
CONSTRAINTS = {
    "real": lambda C: C.real,
    "positive": lambda C: C.positive,
    "nonnegative": lambda C: C.nonnegative,
    "greater_than": lambda C: C.greater_than(-1.5),
    "greater_than_eq": lambda C: C.greater_than_eq(2.0),
    "less_than": lambda C: C.less_than(3.0),
    "unit_interval": lambda C: C.unit_interval,
    "interval": lambda C: C.interval(-2.0, 5.0),
    "half_open_interval": lambda C: C.half_open_interval(-2.0, 5.0),
    "simplex": lambda C: C.simplex,
    "real_vector": lambda C: C.real_vector,
    "independent": lambda C: C.independent(C.positive, 1),
    "lower_cholesky": lambda C: C.lower_cholesky,
    "positive_definite": lambda C: C.positive_definite,
    "positive_semidefinite": lambda C: C.positive_semidefinite,
    "corr_cholesky": lambda C: C.corr_cholesky,
    "cat": lambda C: C.cat([C.positive, C.real], dim=-1, lengths=[2, 2]),
    "stack": lambda C: C.stack([C.positive, C.unit_interval], dim=-1),
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_registries_map_onto_the_constraint(name: str, registry: str) -> None:
    D = autodiff.distributions
    constraint = CONSTRAINTS[name](constraints)
    try:
        transform = getattr(D, registry)(constraint)
    except NotImplementedError as error:
        assert registry == "biject_to" and name in ("lower_cholesky", "positive_definite",
                                                    "positive_semidefinite")
        assert str(error) == f"Cannot transform {type(constraint).__name__} constraints"
        return
    event_dim = transform.domain.event_dim
    size = {"corr_cholesky": 6, "cat": 4, "stack": 2}.get(name, 4)
    shape = {2: (2, 3, 3) if name != "corr_cholesky" else (2, size)}.get(
        event_dim, (2, size))
    if name in ("lower_cholesky", "positive_definite", "positive_semidefinite"):
        shape = (2, 3, 3)
    x = autodiff.tensor(np.random.default_rng(0).standard_normal(shape))
    y = transform(x)
    assert bool(constraint.check(y).all()), (name, y)
    if transform.bijective:
        np.testing.assert_allclose(_numpy(transform.inv(y)), x.numpy(), rtol=1e-8, atol=1e-8)
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.distributions, registry)(CONSTRAINTS[name](
        torch.distributions.constraints))
    assert repr(transform) == repr(theirs)
    np.testing.assert_allclose(_numpy(y), _numpy(theirs(torch.tensor(x.numpy()))), rtol=1e-12)


def test_registry_register_and_errors() -> None:
    D = autodiff.distributions
    registry = D.constraint_registry.ConstraintRegistry()

    class Mine(constraints.Constraint):
        pass

    registry.register(Mine, lambda c: transforms.ExpTransform())
    assert isinstance(registry(Mine()), transforms.ExpTransform)

    @registry.register(constraints.positive)
    def factory(constraint: Any) -> Any:
        return transforms.SoftplusTransform()

    assert isinstance(registry(constraints.positive), transforms.SoftplusTransform)
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint "
                                        "subclass or instance, but got 3"):
        registry.register(3, factory)
    with pytest.raises(NotImplementedError, match="Cannot transform _Real constraints"):
        registry(constraints.real)
