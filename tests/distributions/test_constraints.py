"""Constraints: every object and factory of constraints.py, its check on values inside and
outside (hand-written expectations, and PyTorch's answers where installed), reprs,
event_dim and is_discrete, and the dependent placeholders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.distributions import constraints as C

_CHOLESKY = np.linalg.cholesky(np.array([[4.0, 2.0], [2.0, 3.0]]))
_CORR = np.linalg.cholesky(np.array([[1.0, 0.3], [0.3, 1.0]]))

# name: (constraint factory over the module, values, expected check)
CHECKS: dict[str, tuple[Callable[[Any], Any], Any, Any]] = {
    "boolean": (lambda c: c.boolean, [0.0, 1.0, 0.5, -1.0], [True, True, False, False]),
    "one_hot": (lambda c: c.one_hot, [[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.5, 0.5]],
                [True, False, False]),
    "nonnegative_integer": (lambda c: c.nonnegative_integer, [0.0, 3.0, 2.5, -1.0],
                            [True, True, False, False]),
    "positive_integer": (lambda c: c.positive_integer, [0.0, 3.0, 2.5, 1.0],
                         [False, True, False, True]),
    "integer_interval": (lambda c: c.integer_interval(1, 4), [0.0, 1.0, 4.0, 2.5, 5.0],
                         [False, True, True, False, False]),
    "real": (lambda c: c.real, [0.0, float("inf"), float("nan")], [True, True, False]),
    "real_vector": (lambda c: c.real_vector, [[0.0, 1.0], [float("nan"), 1.0]],
                    [True, False]),
    "positive": (lambda c: c.positive, [0.0, 1e-30, -1.0], [False, True, False]),
    "nonnegative": (lambda c: c.nonnegative, [0.0, 1e-30, -1.0], [True, True, False]),
    "greater_than": (lambda c: c.greater_than(2.0), [2.0, 2.5], [False, True]),
    "greater_than_eq": (lambda c: c.greater_than_eq(2.0), [2.0, 1.5], [True, False]),
    "less_than": (lambda c: c.less_than(2.0), [2.0, 1.5], [False, True]),
    "unit_interval": (lambda c: c.unit_interval, [0.0, 1.0, 1.5, -0.1],
                      [True, True, False, False]),
    "interval": (lambda c: c.interval(-1.0, 2.0), [-1.0, 2.0, 2.1], [True, True, False]),
    "half_open_interval": (lambda c: c.half_open_interval(-1.0, 2.0), [-1.0, 2.0, 0.0],
                           [True, False, True]),
    "simplex": (lambda c: c.simplex, [[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1],
                                      [0.5 + 5e-7, 0.5]], [True, False, False, True]),
    "multinomial": (lambda c: c.multinomial(5), [[1.0, 4.0], [3.0, 3.0], [-1.0, 2.0]],
                    [True, False, False]),
    "lower_triangular": (lambda c: c.lower_triangular, [[[1.0, 0.0], [2.0, -1.0]],
                                                        [[1.0, 1.0], [0.0, 1.0]]],
                         [True, False]),
    "lower_cholesky": (lambda c: c.lower_cholesky, np.stack([_CHOLESKY, -_CHOLESKY, _CHOLESKY.T]),
                       [True, False, False]),
    "corr_cholesky": (lambda c: c.corr_cholesky, np.stack([_CORR, _CHOLESKY]), [True, False]),
    "square": (lambda c: c.square, [[[1.0, 2.0], [3.0, 4.0]]], [True]),
    "symmetric": (lambda c: c.symmetric, [[[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]],
                  [True, False]),
    "positive_semidefinite": (lambda c: c.positive_semidefinite,
                              [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]],
                              [True, False]),
    "positive_definite": (lambda c: c.positive_definite,
                          [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 1.0], [1.0, 1.0]]], [True, False]),
    # As PyTorch's: with a non-symmetric matrix in the batch the answer is the symmetry check
    # alone (the singular second matrix passes it).
    "positive_definite_unsymmetric": (lambda c: c.positive_definite,
                                      [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 1.0], [1.0, 1.0]],
                                       [[1.0, 2.0], [3.0, 4.0]]], [True, True, False]),
    "independent": (lambda c: c.independent(c.positive, 1), [[1.0, 2.0], [1.0, -2.0]],
                    [True, False]),
    "cat": (lambda c: c.cat([c.positive, c.real], dim=-1, lengths=[1, 2]),
            [[1.0, -2.0, 3.0], [-1.0, 2.0, float("nan")]],
            [[True, True, True], [False, True, False]]),
    "stack": (lambda c: c.stack([c.positive, c.unit_interval], dim=-1),
              [[1.0, 0.5], [1.0, 1.5]], [[True, True], [True, False]]),
    "mixture": (lambda c: c.MixtureSameFamilyConstraint(c.positive), [1.0, -1.0],
                [True, False]),
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_check(name: str, device: str) -> None:
    make, values, expected = CHECKS[name]
    constraint = make(C)
    got = constraint.check(autodiff.tensor(values, dtype=autodiff.float64, device=device))
    assert got.dtype is autodiff.bool and str(got.device) == device
    assert got.tolist() == expected


@pytest.mark.parametrize("name", list(CHECKS))
def test_check_repr_and_properties_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    make, values, _ = CHECKS[name]
    ours, theirs = make(C), make(torch.distributions.constraints)
    assert repr(ours) == repr(theirs)
    assert ours.event_dim == theirs.event_dim
    assert ours.is_discrete == theirs.is_discrete
    assert (ours.check(autodiff.tensor(values, dtype=autodiff.float64)).tolist()
            == theirs.check(torch.tensor(values, dtype=torch.float64)).tolist())


def test_dependent_constraints() -> None:
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    assert repr(C.dependent) == "Dependent()"
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        C.dependent.check(autodiff.zeros(1))
    with pytest.raises(NotImplementedError, match=r"\.is_discrete cannot be determined "):
        C.dependent.is_discrete  # noqa: B018
    with pytest.raises(NotImplementedError, match=r"\.event_dim cannot be determined "):
        C.dependent.event_dim  # noqa: B018
    shaped = C.dependent(is_discrete=True, event_dim=1)
    assert shaped.is_discrete and shaped.event_dim == 1
    assert shaped(event_dim=2).is_discrete and shaped(event_dim=2).event_dim == 2

    class Box:
        def __init__(self, high: float) -> None:
            self.high = high

        @C.dependent_property(is_discrete=False, event_dim=0)
        def support(self) -> Any:
            return C.interval(0.0, self.high)

    # On the class a placeholder validation can skip; on an instance the real constraint.
    assert C.is_dependent(Box.support) and Box.support.event_dim == 0
    assert repr(Box(3.0).support) == "Interval(lower_bound=0.0, upper_bound=3.0)"


def test_constructor_checks() -> None:
    with pytest.raises(AssertionError, match="base_constraint must be a Constraint, got int"):
        C.independent(3, 1)
    with pytest.raises(AssertionError, match="reinterpreted_batch_ndims must be >= 0, got -1"):
        C.independent(C.real, -1)
    with pytest.raises(AssertionError, match="must be an int, got float"):
        C.independent(C.real, 1.0)
    with pytest.raises(ValueError, match=r"Expected value.dim\(\) >= 2 but got 1"):
        C.independent(C.real, 2).check(autodiff.zeros(3))
    with pytest.raises(AssertionError, match="All elements of cseq must be Constraint"):
        C.cat([C.real, 2])
    with pytest.raises(AssertionError, match=r"lengths \(1\) must match cseq \(2\)"):
        C.cat([C.real, C.real], lengths=[1])
    with pytest.raises(AssertionError, match="dim 3 out of range for value with 1 dimensions"):
        C.stack([C.real], dim=3).check(autodiff.zeros(1))
    assert C.cat([C.real, C.boolean]).is_discrete
    assert C.stack([C.real_vector], dim=-1).event_dim == 1
    assert C.stack([C.real_vector], dim=-2).event_dim == 2
