"""autodiff.functional is torch.functional: the tensor functions PyTorch writes in Python,
the same objects as on autodiff itself."""

from __future__ import annotations

import importlib.util

import pytest

import autodiff
import autodiff.functional as F


def test_names_are_autodiffs_own() -> None:
    for name in F.__all__:
        assert getattr(F, name) is getattr(autodiff, name), name


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_names_match_torch_functional() -> None:
    import torch.functional

    assert set(F.__all__) == set(torch.functional.__all__)


def test_functions_work_through_the_namespace() -> None:
    a, b = autodiff.ones(2, 3), autodiff.ones(3, 4)
    assert F.einsum("ij,jk->ik", a, b).tolist() == [[3.0] * 4] * 2
    x, y = F.meshgrid(autodiff.arange(2), autodiff.arange(3), indexing="ij")
    assert x.shape == y.shape == (2, 3)
    assert [part.shape for part in F.split(autodiff.arange(5), 2)] == [(2,), (2,), (1,)]
