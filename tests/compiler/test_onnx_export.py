"""autodiff.onnx.export: the captured forward program run in onnxruntime equals eager."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import nn

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def test_digits_mlp_runs_in_onnxruntime(tmp_path) -> None:
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10), nn.LogSoftmax(1))
    x = autodiff.randn(8, 64)
    path = tmp_path / "mlp.onnx"
    autodiff.onnx.export(model, (x,), str(path), input_names=["pixels"],
                         output_names=["log_probs"], dynamic_axes={"pixels": {0: "batch"},
                                                                   "log_probs": {0: "batch"}})
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for rows in (8, 3):  # the batch axis is dynamic
        batch = autodiff.randn(rows, 64)
        (got,) = session.run(None, {"pixels": batch.numpy()})
        with autodiff.no_grad():
            expected = model(batch).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_an_op_without_onnx_form_is_named(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="'cumulative_sum' has no ONNX equivalent"):
        autodiff.onnx.export(lambda t: t.cumsum(0), (autodiff.ones(3),),
                             str(tmp_path / "x.onnx"))
