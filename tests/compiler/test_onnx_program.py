"""autodiff.onnx.export's ONNXProgram (what dynamo=True returns, as torch.onnx's does): save,
call, optimize; and torch.cond exported as an If node whose branches are subgraphs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import autodiff
from autodiff import nn

onnxruntime = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _run(model_proto, *arrays: np.ndarray) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(model_proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    names = [value.name for value in session.get_inputs()]
    return session.run(None, dict(zip(names, arrays, strict=True)))


def _mlp() -> nn.Module:
    autodiff.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_export_returns_a_program_that_saves_and_runs(tmp_path: Path) -> None:
    model = _mlp()
    x = autodiff.randn(5, 3)
    program = autodiff.onnx.export(model, (x,), dynamo=True)
    assert isinstance(program, autodiff.onnx.ONNXProgram)
    assert program.exported_program is None
    (out,) = program(x)
    np.testing.assert_allclose(out.numpy(), model(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    path = tmp_path / "mlp.onnx"
    program.save(path)
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded)
    np.testing.assert_allclose(_run(loaded, x.numpy())[0], out.numpy(), rtol=1e-6)
    assert "Gemm" in str(program.model) and "ONNXProgram(" in repr(program)


def test_save_options(tmp_path: Path) -> None:
    program = autodiff.onnx.export(_mlp(), (autodiff.randn(2, 3),))
    count = len(program.model_proto.graph.initializer)
    assert count > 0
    program.save(tmp_path / "bare.onnx", include_initializers=False)
    assert not onnx.load(str(tmp_path / "bare.onnx")).graph.initializer
    program.save(tmp_path / "inputs.onnx", keep_initializers_as_inputs=True)
    kept = onnx.load(str(tmp_path / "inputs.onnx"))
    assert len(kept.graph.input) == 1 + count and len(kept.graph.initializer) == count
    program.save(tmp_path / "external.onnx", external_data=True)
    assert (tmp_path / "external.onnx.data").exists()
    assert len(program.model_proto.graph.initializer) == count  # the program's own is unchanged
    with pytest.raises(TypeError, match="must be a file path"):
        program.save(io.BytesIO(), external_data=True)  # type: ignore[arg-type]


def test_dynamo_false_writes_f_and_returns_none() -> None:
    buffer = io.BytesIO()
    assert autodiff.onnx.export(_mlp(), (autodiff.randn(2, 3),), buffer, dynamo=False) is None
    assert onnx.load_from_string(buffer.getvalue()).graph.node
    with pytest.raises(ValueError, match="dynamo=False writes the graph to f"):
        autodiff.onnx.export(_mlp(), (autodiff.randn(2, 3),), dynamo=False)


class _PythonBranch(nn.Module):
    def forward(self, x: autodiff.Tensor) -> autodiff.Tensor:
        if x.sum():  # followed as traced: the sum's node goes unread
            return x * 2
        return -x


def test_optimize_drops_the_nodes_no_output_reads() -> None:
    x = autodiff.ones(3)
    kept = autodiff.onnx.export(_PythonBranch(), (x,), optimize=False)
    assert "ReduceSum" in {node.op_type for node in kept.model_proto.graph.node}
    kept.optimize()
    assert "ReduceSum" not in {node.op_type for node in kept.model_proto.graph.node}
    optimized = autodiff.onnx.export(_PythonBranch(), (x,))
    assert [node.op_type for node in optimized.model_proto.graph.node] == ["Mul", "Identity"]
    np.testing.assert_allclose(_run(optimized.model_proto, np.ones(3, np.float32))[0], 2.0)


class _Cond(nn.Module):
    """Branches that read parameters first inside them, and return two tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(3, 3)
        self.second = nn.Linear(3, 3)

    def forward(self, x: autodiff.Tensor) -> tuple[autodiff.Tensor, autodiff.Tensor]:
        def positive(x: autodiff.Tensor) -> tuple[autodiff.Tensor, autodiff.Tensor]:
            return self.first(x).relu(), x * 2

        def negative(x: autodiff.Tensor) -> tuple[autodiff.Tensor, autodiff.Tensor]:
            return self.second(x).tanh(), x - 1

        return autodiff.cond(x.sum() > 0, positive, negative, (x,))


def test_cond_exports_as_an_if_node_with_both_branches() -> None:
    autodiff.manual_seed(0)
    model = _Cond()
    program = autodiff.onnx.export(model, (autodiff.ones(2, 3),))
    nodes = program.model_proto.graph.node
    assert "If" in {node.op_type for node in nodes}
    onnx.checker.check_model(program.model_proto)
    for x in (autodiff.ones(2, 3), -autodiff.ones(2, 3), autodiff.randn(2, 3)):
        with autodiff.no_grad():
            expected = model(x)
        got = _run(program.model_proto, x.numpy())
        for mine, want in zip(got, expected, strict=True):
            np.testing.assert_allclose(mine, want.numpy(), rtol=1e-6, atol=1e-6)


def test_cond_on_a_constant_keeps_only_its_branch() -> None:
    def function(x: autodiff.Tensor) -> autodiff.Tensor:
        return autodiff.cond(autodiff.tensor(False), lambda y: y.exp(), lambda y: y.sin(), (x,))

    program = autodiff.onnx.export(function, (autodiff.ones(3),))
    kinds = {node.op_type for node in program.model_proto.graph.node}
    assert "Sin" in kinds and "Exp" not in kinds and "If" not in kinds
    np.testing.assert_allclose(_run(program.model_proto, np.ones(3, np.float32))[0],
                               np.sin(np.ones(3)), rtol=1e-6)


def _exported(model, args, **options) -> bytes:
    buffer = io.BytesIO()
    autodiff.onnx.export(model, args, buffer, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("opset", [10, 12, 13, 17])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_over_any_dim_at_early_opsets(opset: int, dim: int) -> None:
    """Before opset 13 ONNX's Softmax normalizes over every dim from its axis on."""
    x = autodiff.randn(2, 3, 4)
    for function in (autodiff.softmax, autodiff.log_softmax):
        data = _exported(lambda t, f=function: f(t, dim), (x,), opset_version=opset)
        assert onnx.load_from_string(data).opset_import[0].version == opset
        got = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"]).run(
            None, {"input_0": x.numpy()})[0]
        np.testing.assert_allclose(got, function(x, dim).numpy(), rtol=1e-5, atol=1e-6)


def test_pixel_shuffle_at_opset_10() -> None:
    """DepthToSpace's CRD mode is from opset 11: before, the shuffle is written out."""
    model = nn.PixelShuffle(3)
    x = autodiff.randn(2, 18, 4, 5)
    for opset in (10, 11):
        data = _exported(model, (x,), opset_version=opset, input_names=["x"],
                         dynamic_axes={"x": {0: "batch"}})
        kinds = {node.op_type for node in onnx.load_from_string(data).graph.node}
        assert ("DepthToSpace" in kinds) == (opset >= 11)
        session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        for batch in (x, autodiff.randn(3, 18, 4, 5)):
            np.testing.assert_array_equal(session.run(None, {"x": batch.numpy()})[0],
                                          model(batch).numpy())


def test_opset_refusals() -> None:
    x = autodiff.randn(2, 4)
    with pytest.raises(autodiff.onnx.UnsupportedOperatorError,
                       match=r"not valid at opset_version=13 \(No Op registered for "
                             r"LayerNormalization.*export with opset_version=17 or later"):
        _exported(nn.LayerNorm(4), (x,), opset_version=13)
    with pytest.raises(ValueError, match="do_constant_folding=False is not supported"):
        _exported(nn.LayerNorm(4), (x,), do_constant_folding=False)
    assert _exported(nn.LayerNorm(4), (x,), do_constant_folding=True)
