"""The sequence examples, short runs on every test device: the LSTM on the adding problem (its
test error falls far below that of predicting the mean) and the character-level Transformer on
the standard library's docstrings (its validation loss falls below the text's unigram
entropy; it samples text and draws its loss curves)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lstm_sequence_learns_to_add(device: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm", reason="the examples need tqdm (pip install -e '.[examples]')")
    result = _example("lstm_sequence").main(
        ["--device", device, "--steps", "200", "--seq-len", "10", "--lr", "0.02"])
    out = capsys.readouterr().out
    assert "test MSE" in out and f"on {device}" in out and "mse=" in out
    # Predicting the mean gives 1/6; 200 steps on sequences up to 10 reach about 0.01.
    assert result["test_mse"] < 0.05 < result["baseline"]
    losses = result["losses"]
    assert sum(losses[-20:]) < sum(losses[:20]) / 3


def test_char_transformer_beats_the_unigram_entropy(tmp_path: Path, device: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm", reason="the examples need tqdm (pip install -e '.[examples]')")
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib")
    curves = tmp_path / "loss.png"
    result = _example("char_transformer").main(
        ["--device", device, "--steps", "50", "--layers", "1", "--d-model", "48",
         "--context", "32", "--batch-size", "16", "--eval-every", "25", "--lr", "1e-2",
         "--sample-length", "40", "--plot", str(curves)])
    out = capsys.readouterr().out
    assert "unigram entropy" in out and "loss=" in out and "sample:\nReturn the " in out
    assert 3.0 < result["entropy"] < 3.6  # characters of English docstrings
    # 50 small steps already beat character frequencies; the default run ends near 1.95.
    assert result["validation"][-1] < result["entropy"] - 0.1
    assert len(result["sample"]) == len("Return the ") + 40
    assert curves.read_bytes().startswith(b"\x89PNG")


def test_sequence_examples_run_as_scripts() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name, flags in (("lstm_sequence", ("--device", "--steps", "--seq-len", "--hidden")),
                        ("char_transformer", ("--device", "--steps", "--plot", "--layers",
                                              "--context"))):
        helped = subprocess.run([sys.executable, str(ROOT / "examples" / f"{name}.py"),
                                 "--help"], capture_output=True, text=True, env=env, check=True)
        for flag in flags:
            assert flag in helped.stdout
