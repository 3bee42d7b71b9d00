"""Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, Adafactor, Muon and SparseAdam: several
steps, two parameter groups, weight decay and maximize, on every device, against the NumPy
references (to 1e-12 in float64) and against torch.optim when it is installed."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import autodiff
import backends
from autodiff import optim

from .harness import (
    MATRICES,
    QUADRATIC,
    ROWS,
    Problem,
    assert_same,
    run_autodiff,
    run_reference,
    run_torch,
)
from .reference_adaptive import (
    AdadeltaReference,
    AdagradReference,
    AdamaxReference,
    ASGDReference,
    NAdamReference,
    RAdamReference,
    RpropReference,
)
from .reference_matrix import (
    AdafactorReference,
    MuonReference,
    SparseAdamReference,
)


@pytest.fixture
def float64_scalars() -> Iterator[None]:
    """float64 as the default dtype, so scalar state (NAdam's mu_product, ASGD's eta and mu)
    is float64 as in the references; PyTorch keeps it in the default dtype too."""
    previous = autodiff.get_default_dtype()
    autodiff.set_default_dtype(autodiff.float64)
    try:
        yield
    finally:
        autodiff.set_default_dtype(previous)


class Case:
    """One optimizer configuration: how to make it (in autodiff or torch), its NumPy reference,
    the problem it runs on and the lr of its first group."""

    def __init__(self, name: str, lr: float, options: dict[str, Any],
                 reference: Callable[..., Any], problem: Problem = QUADRATIC,
                 reference_options: dict[str, Any] | None = None) -> None:
        self.name, self.lr, self.options = name, lr, options
        self.reference, self.problem = reference, problem
        self.reference_options = options if reference_options is None else reference_options

    def make(self, module: Any, groups: list[dict[str, Any]]) -> Any:
        return getattr(module, self.name)(groups, lr=self.lr, **self.options)

    def rule(self, lr: float | None) -> Any:
        return self.reference(lr=self.lr if lr is None else lr, **self.reference_options)

    def __repr__(self) -> str:
        return f"{self.name}({self.options})"


def _grid(**axes: tuple[Any, ...]) -> list[dict[str, Any]]:
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*axes.values())]


def _nadam(options: dict[str, Any]) -> dict[str, Any]:
    renamed = dict(options)
    renamed["decoupled"] = renamed.pop("decoupled_weight_decay", False)
    return renamed


CASES = [
    *(Case("Adagrad", 0.1, o, AdagradReference) for o in _grid(
        lr_decay=(0.0, 0.05), weight_decay=(0.0, 0.1), initial_accumulator_value=(0.0, 0.3),
        maximize=(False, True))),
    *(Case("Adadelta", 0.5, o, AdadeltaReference) for o in _grid(
        rho=(0.9, 0.6), eps=(1e-6, 1e-3), weight_decay=(0.0, 0.1), maximize=(False, True))),
    *(Case("Adamax", 0.1, o, AdamaxReference) for o in _grid(
        betas=((0.9, 0.999), (0.3, 0.8)), weight_decay=(0.0, 0.1), maximize=(False, True))),
    *(Case("NAdam", 0.1, o, NAdamReference, reference_options=_nadam(o)) for o in _grid(
        betas=((0.9, 0.999), (0.3, 0.8)), weight_decay=(0.0, 0.1),
        decoupled_weight_decay=(False, True), momentum_decay=(4e-3, 0.1),
        maximize=(False, True))),
    # beta2 = 0.9: rho_t passes 5 at step 5, so both of RAdam's branches are taken.
    *(Case("RAdam", 0.1, o, RAdamReference, reference_options=_nadam(o)) for o in _grid(
        betas=((0.9, 0.9), (0.3, 0.6)), weight_decay=(0.0, 0.1),
        decoupled_weight_decay=(False, True), maximize=(False, True))),
    *(Case("ASGD", 0.1, o, ASGDReference) for o in _grid(
        lambd=(1e-4, 0.05), alpha=(0.75, 0.5), t0=(2.0, 1e6), weight_decay=(0.0, 0.1),
        maximize=(False, True))),
    *(Case("Rprop", 0.05, o, RpropReference) for o in _grid(
        etas=((0.5, 1.2), (0.3, 1.5)), step_sizes=((1e-6, 50), (0.02, 0.08)),
        maximize=(False, True))),
    *(Case("Adafactor", 0.05, o, AdafactorReference, MATRICES) for o in _grid(
        beta2_decay=(-0.8, -0.5), eps=((None, 1e-3), (1e-4, 0.3)), d=(1.0, 0.1 + 1.0),
        weight_decay=(0.0, 0.1), maximize=(False, True))),
    *(Case("Adafactor", 0.05, o, AdafactorReference) for o in _grid(  # a vector: unfactored
        weight_decay=(0.0, 0.1), maximize=(False, True))),
    *(Case("Muon", 0.02, o, MuonReference, MATRICES) for o in _grid(
        weight_decay=(0.0, 0.1), momentum=(0.95, 0.3), nesterov=(True, False),
        adjust_lr_fn=(None, "match_rms_adamw"))),
    *(Case("SparseAdam", 0.1, o, SparseAdamReference, ROWS) for o in _grid(
        betas=((0.9, 0.999), (0.3, 0.8)), maximize=(False, True))),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_numpy_reference(case: Case, device: str, float64_scalars: None) -> None:
    ours = run_autodiff(lambda groups: case.make(optim, groups), device,
                        problem=case.problem)
    reference = run_reference(_rule_on(case, device), problem=case.problem)
    assert_same(ours, reference, 1e-12)


def _rule_on(case: Case, device: str) -> Callable[[float | None], Any]:
    """The case's reference rule for a run on `device`: Muon's iteration is unrounded where the
    backend has no bfloat16 (see muon.py)."""
    if case.name != "Muon" or backends.get_backend(device).has_dtype("bfloat16"):
        return case.rule
    return lambda lr: MuonReference(lr=case.lr if lr is None else lr, bfloat16=False,
                                    **case.reference_options)


# Muon's Newton-Schulz iteration runs in bfloat16 in both, each op rounded once (muon.py).
TORCH_TOLERANCE: dict[str, float] = {}


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_torch_optim(case: Case, float64_scalars: None) -> None:
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        theirs = run_torch(case.make, problem=case.problem)
    finally:
        torch.set_default_dtype(previous)
    ours = run_autodiff(lambda groups: case.make(optim, groups), problem=case.problem)
    assert_same(ours, theirs, TORCH_TOLERANCE.get(case.name, 1e-12))


@pytest.mark.parametrize("name", ["NAdam", "ASGD"])
def test_scalar_state_in_float32_as_pytorch(name: str) -> None:
    """With the default dtype float32, NAdam's mu_product and ASGD's eta and mu are float32
    0-d tensors (as PyTorch keeps them), and the steps still match PyTorch's."""
    torch = pytest.importorskip("torch")
    case = next(case for case in CASES if case.name == name)
    ours = run_autodiff(lambda groups: case.make(optim, groups))
    assert_same(ours, run_torch(case.make), 1e-12)
    optimizer = case.make(optim, [autodiff.nn.Parameter(autodiff.ones(2))])
    optimizer.param_groups[0]["params"][0].grad = autodiff.ones(2)
    optimizer.step()
    scalars = [value for value in optimizer.state_dict()["state"][0].values()
               if isinstance(value, autodiff.Tensor) and value.dim() == 0]
    assert scalars and all(value.dtype == autodiff.float32 for value in scalars)
    assert torch.get_default_dtype() == torch.float32


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD",
                                  "Rprop", "Adafactor", "Muon", "SparseAdam"])
def test_float32_parameters_stay_float32_and_close(name: str, device: str) -> None:
    case = next(case for case in CASES if case.name == name)
    ours = run_autodiff(lambda groups: case.make(optim, groups), device,
                        dtype=autodiff.float32, problem=case.problem)
    reference = run_reference(_rule_on(case, device), problem=case.problem)
    assert_same(ours, reference, 2e-4 if name in ("Rprop", "Muon") else 2e-5)
