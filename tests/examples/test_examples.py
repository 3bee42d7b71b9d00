"""The examples, run end to end: the digits MLP (few epochs, its checkpoint reloaded to the same
predictions, its curves drawn) and the tutorials' one-layer network, on every test device."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import autodiff

ROOT = Path(__file__).resolve().parents[2]


def _example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_digits_end_to_end(tmp_path: Path, device: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn", reason="the digits example needs scikit-learn "
                        "(pip install -e '.[examples]')")
    pytest.importorskip("tqdm", reason="the digits example needs tqdm")
    pytest.importorskip("matplotlib", reason="the digits example needs matplotlib")
    digits = _example("train_digits")
    checkpoint, curves = tmp_path / "digits.pt", tmp_path / "curves.png"
    result = digits.main(["--device", device, "--epochs", "4", "--checkpoint", str(checkpoint),
                          "--plot", str(curves)])
    out = capsys.readouterr().out
    assert "epoch  1/4" in out and "loss=" in out  # the progress bar, with the running loss
    assert "test accuracy:" in out
    losses, accuracies = result["losses"], result["accuracies"]
    assert len(losses) == 4 and losses[-1] < losses[0] / 2
    assert accuracies[-1] >= 0.93  # 4 epochs reach about 96%; 20 (the default) about 97-98%
    assert curves.read_bytes().startswith(b"\x89PNG")

    # The checkpoint reloads into a fresh model that predicts exactly the same.
    saved = autodiff.load(checkpoint)
    assert saved["epochs"] == 4 and saved["test_accuracy"] == accuracies[-1]
    assert sorted(saved["optimizer"]["state"]) == [0, 1, 2, 3]
    model = digits.build_model().to(device)
    model.load_state_dict(saved["model"])
    model.eval()
    x_test, _ = result["test"]
    with autodiff.no_grad():
        reloaded = model(x_test).cpu().numpy()
        trained = result["model"](x_test).cpu().numpy()
    np.testing.assert_array_equal(reloaded, trained)
    on_cpu = digits.build_model()
    on_cpu.load_state_dict(autodiff.load(checkpoint, map_location="cpu")["model"])
    np.testing.assert_allclose(on_cpu(x_test.cpu()).detach().numpy(), trained, rtol=1e-5,
                               atol=1e-6)


def test_seed_logistic_reaches_full_accuracy(device: str) -> None:
    result = _example("seed_logistic").main(["--device", device, "--steps", "300"])
    assert result["accuracy"] == 1.0
    assert result["loss"] < 0.05 and result["loss"] < result["first_loss"] / 4


def test_examples_run_as_scripts(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "seed_logistic.py"),
                          "--steps", "50"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True)
    assert "step    0  loss" in run.stdout and "accuracy" in run.stdout
    helped = subprocess.run([sys.executable, str(ROOT / "examples" / "train_digits.py"),
                             "--help"], capture_output=True, text=True, env=env, check=True)
    for flag in ("--device", "--epochs", "--batch-size", "--lr", "--seed", "--checkpoint",
                 "--plot"):
        assert flag in helped.stdout


def test_train_cnn_end_to_end(tmp_path: Path, device: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn", reason="the CNN example needs scikit-learn "
                        "(pip install -e '.[examples]')")
    pytest.importorskip("tqdm", reason="the CNN example needs tqdm")
    pytest.importorskip("matplotlib", reason="the CNN example needs matplotlib")
    cnn = _example("train_cnn")
    checkpoint, curves = tmp_path / "cnn.pt", tmp_path / "curves.png"
    result = cnn.main(["--device", device, "--epochs", "2", "--checkpoint", str(checkpoint),
                       "--plot", str(curves)])
    out = capsys.readouterr().out
    assert "epoch  1/2" in out and "loss=" in out
    losses, accuracies = result["losses"], result["accuracies"]
    assert len(losses) == 2 and losses[-1] < losses[0]
    assert accuracies[-1] >= 0.93  # 2 epochs reach about 97%; 20 (the default) about 99%
    assert curves.read_bytes().startswith(b"\x89PNG")

    # The checkpoint (with the batch-norm running statistics) reloads into a fresh model that
    # predicts the same in evaluation mode.
    saved = autodiff.load(checkpoint)
    assert saved["epochs"] == 2 and saved["test_accuracy"] == accuracies[-1]
    assert "1.num_batches_tracked" in saved["model"]
    assert saved["model"]["1.num_batches_tracked"].item() == 2 * 45  # 2 epochs of 45 batches
    model = cnn.build_model().to(device)
    model.load_state_dict(saved["model"])
    model.eval()
    result["model"].eval()
    x_test, _ = result["test"]
    with autodiff.no_grad():
        np.testing.assert_array_equal(model(x_test).cpu().numpy(),
                                      result["model"](x_test).cpu().numpy())


def test_train_cnn_runs_as_a_script() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    helped = subprocess.run([sys.executable, str(ROOT / "examples" / "train_cnn.py"),
                             "--help"], capture_output=True, text=True, env=env, check=True)
    for flag in ("--device", "--epochs", "--batch-size", "--lr", "--seed", "--checkpoint",
                 "--plot"):
        assert flag in helped.stdout


def test_per_sample_grads_example(device: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn", reason="the digits example needs scikit-learn "
                        "(pip install -e '.[examples]')")
    example = _example("per_sample_grads")
    result = example.main(["--device", device, "--batch", "16", "--models", "3"])
    out = capsys.readouterr().out
    assert "per-sample gradients of 16 examples" in out
    assert result["worst"] < 1e-5 and result["ensemble_error"] < 1e-5
    batched = result["batched"]
    assert tuple(batched["0.weight"].shape) == (16, 128, 64)
    # Examples differ: not one gradient repeated.
    first, second = batched["2.weight"][0], batched["2.weight"][1]
    assert float((first - second).abs().max()) > 1e-4
    assert tuple(result["predictions"].shape) == (3, 16, 10)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_train_digits_amp_learns(dtype: str) -> None:
    pytest.importorskip("sklearn", reason="the digits example needs scikit-learn "
                        "(pip install -e '.[examples]')")
    amp = _example("train_digits_amp")
    result = amp.main(["--dtype", dtype, "--epochs", "3"])
    assert result["accuracy"] > 0.85
    assert result["scale"] >= 2.0 ** 16  # no overflow on this problem: the scale never backs off
