"""`python -m autodiff`: the README's first command. It runs the tutorials' one-layer network,
prints what the tutorials print, can train for a few steps, and fails clearly without CUDA."""

from __future__ import annotations

import itertools
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import autodiff
from autodiff.__main__ import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
NODE = r"<{} object at 0x[0-9a-fA-F]+>"


def run_demo(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """The demo in a fresh interpreter, as a user runs it (`prelude` runs first)."""
    code = f"{prelude}\nimport runpy\nrunpy.run_module('autodiff', run_name='__main__')"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_demo_runs_and_prints_the_tutorial_graph() -> None:
    result = subprocess.run([sys.executable, "-m", "autodiff"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert re.search(r"^device: cpu$", out, re.MULTILINE)
    assert re.search(rf"^Gradient function for z = {NODE.format('AddBackward0')}$", out,
                     re.MULTILINE)
    assert re.search(
        rf"^Gradient function for loss = {NODE.format('BinaryCrossEntropyWithLogitsBackward0')}$",
        out, re.MULTILINE)
    assert re.search(r"^loss = .*\d", out, re.MULTILINE)
    assert re.search(r"^w\.grad =\ntensor\(\[\[.*\]\]\)$", out, re.MULTILINE | re.DOTALL)
    assert re.search(r"^b\.grad =\ntensor\(\[[^\[\]]*\]\)$", out, re.MULTILINE)


def test_demo_values_match_numpy(capsys: pytest.CaptureFixture[str]) -> None:
    """The printed loss and gradients are the tutorial's formulas on the demo's own draws."""
    assert main(["--seed", "3"]) == 0
    out = capsys.readouterr().out
    autodiff.manual_seed(3)  # the demo's draws, in its order: w then b
    w = np.array(autodiff.randn(5, 3).tolist())
    b = np.array(autodiff.randn(3).tolist())
    z = np.ones(5) @ w + b
    loss = np.mean(np.logaddexp(0, z))
    dz = 1 / (1 + np.exp(-z)) / 3
    printed_loss = float(re.search(r"^loss = (?:tensor\()?(-?[\d.e+-]+)", out, re.M).group(1))
    assert printed_loss == pytest.approx(loss, abs=5e-5)
    w_block = out[out.index("w.grad =\n") + 9 : out.index("b.grad =")]
    numbers = [float(n) for n in re.findall(r"-?\d+\.\d+(?:e[+-]\d+)?", w_block)]
    np.testing.assert_allclose(numbers, np.outer(np.ones(5), dz).ravel(), atol=5.01e-5)
    b_line = out[out.index("b.grad =\n") + 9 :].splitlines()[0]
    numbers = [float(n) for n in re.findall(r"-?\d+\.\d+(?:e[+-]\d+)?", b_line)]
    np.testing.assert_allclose(numbers, dz, atol=5.01e-5)


def test_demo_training_steps_lower_the_loss() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autodiff", "--batch", "4", "--in-features", "8",
         "--out-features", "2", "--steps", "5"],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    steps = re.findall(r"^step\s+(\d+)\s+loss\s+([\d.]+)$", result.stdout, re.MULTILINE)
    assert [int(step) for step, _ in steps] == [1, 2, 3, 4, 5]
    losses = [float(loss) for _, loss in steps]
    assert all(later < earlier for earlier, later in itertools.pairwise(losses)), losses
    assert "w.grad =\ntensor([[" in result.stdout  # an 8 x 2 gradient, printed as a matrix
    w_block = result.stdout[result.stdout.index("w.grad ="):result.stdout.index("b.grad =")]
    assert w_block.count("[") == 1 + 8


def test_demo_rejects_cuda_without_cupy() -> None:
    """Whether or not CuPy is installed here, its absence is simulated: one clear line."""
    result = run_demo("--device", "cuda", prelude="import sys; sys.modules['cupy'] = None")
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert "CuPy" in line and "not installed" in line  # what is missing
    assert "pip install" in line  # how to fix it
    assert "Traceback" not in result.stderr


def test_demo_rejects_an_indexed_cuda_device_without_cupy() -> None:
    result = run_demo("--device", "cuda:1", prelude="import sys; sys.modules['cupy'] = None")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "CuPy" in lines[0] and "pip install" in lines[0], result.stderr


def test_demo_rejects_an_unknown_device() -> None:
    result = run_demo("--device", "tpu")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "tpu" in lines[0], result.stderr
