"""autodiff.onnx.export of rearranging ops (rot90, pixel_shuffle of any rank, pixel_unshuffle,
channel_shuffle, narrow_copy, diag_embed, Tensor.unfold, block_diag) and of scatters
(select_scatter, slice_scatter, index_fill, put): onnxruntime equals eager (shape, dtype,
values), with a dynamic batch where the op allows it."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F

onnxruntime = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _random(*shape: int, seed: int = 0) -> autodiff.Tensor:
    return autodiff.tensor(np.random.default_rng(seed).standard_normal(shape),
                           dtype=autodiff.float32)


def _same(model, shape: tuple[int, ...], batches: tuple[int, ...] = (), kind: str = "") -> None:
    buffer = io.BytesIO()
    autodiff.onnx.export(model, (_random(*shape),), buffer, input_names=["x"],
                         output_names=["y"],
                         dynamic_axes={"x": [0], "y": [0]} if batches else None)
    data = buffer.getvalue()
    if kind:
        assert kind in {node.op_type for node in onnx.load_from_string(data).graph.node}
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    for seed, batch in enumerate((shape[0], *batches), start=1):
        x = _random(batch, *shape[1:], seed=seed)
        x[0].view(-1)[0] = math.inf
        (got,) = session.run(None, {"x": x.numpy()})
        expected = model(x).numpy()
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize(("model", "shape", "kind"), [
    (lambda x: F.pixel_shuffle(x, 2), (2, 3, 8, 2, 3), "Transpose"),
    (lambda x: F.pixel_shuffle(x, 2), (2, 8, 2, 3), "DepthToSpace"),
    (lambda x: F.pixel_unshuffle(x, 2), (2, 3, 2, 4, 6), "Transpose"),
    (lambda x: F.channel_shuffle(x, 3), (2, 6, 3, 2), "Transpose"),
    (lambda x: x.rot90(1, (1, 2)), (2, 3, 4), "Slice"),
    (lambda x: x.rot90(-1, (2, 1)), (2, 3, 4), "Slice"),
    (lambda x: x.rot90(2, (1, 2)), (2, 3, 4), "Slice"),
    (lambda x: x.narrow_copy(2, 1, 2), (2, 3, 4), "Slice"),
    (lambda x: x.unfold(2, 3, 2), (2, 3, 7), "Gather"),
    (lambda x: autodiff.diag_embed(x, 1, 0, 2), (2, 3), "Gather"),
    (lambda x: autodiff.diag_embed(x, -2, -1, 1), (2, 3), "Gather"),
    (lambda x: autodiff.select_scatter(x, x[:, 1] * 2, 1, 1), (2, 3, 4), "ScatterElements"),
    (lambda x: autodiff.slice_scatter(x, x[..., ::2] + 1, 2, 0, None, 2), (2, 3, 4),
     "ScatterElements"),
    (lambda x: x.index_fill(2, autodiff.tensor([3, -4]), -1.5), (2, 3, 4), "ScatterElements"),
])
def test_rearranging_ops_with_a_dynamic_batch(model, shape, kind) -> None:
    _same(model, shape, (5,), kind)


def test_block_diag_and_put() -> None:
    def model(x):
        first = autodiff.block_diag(x[0], x[1, 0], x[1, 1, :2], autodiff.tensor(3.0))
        second = x.put(autodiff.tensor([5, -1, 5, 0]), x[1, 1] * 10, accumulate=True)
        return autodiff.cat([first.reshape(-1), second.reshape(-1)])

    _same(model, (2, 3, 4))


def test_a_copied_computed_index_is_refused() -> None:
    """index_fill and put are given a copy of their index (negatives wrapped): one the model
    computes cannot be followed, and is refused rather than frozen."""
    for model in (lambda x: x.index_fill(2, x[0, 0, :2].abs().argsort(), -1.5),
                  lambda x: x.put(x[0, 0].abs().argsort(), x[1, 1] * 10)):
        with pytest.raises(autodiff.onnx.UnsupportedOperatorError, match="copy of an index"):
            autodiff.onnx.export(model, (_random(2, 3, 4),), io.BytesIO())
