"""`ONNXProgram`: what `export(..., dynamo=True)` returns, as torch.onnx's does — the ONNX
model, which it saves to a file or runs in onnxruntime on Tensors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..creation import from_numpy
from ..tensor import Tensor


class ONNXProgram:
    """An exported ONNX model, callable with Tensors (through onnxruntime)."""

    def __init__(self, model_proto: Any) -> None:
        self._model_proto = model_proto
        self.exported_program = None  # (torch.onnx's comes from torch.export; this one does not)
        self._inference_session: Any = None

    @property
    def model_proto(self) -> Any:
        """The ONNX `ModelProto`."""
        return self._model_proto

    @property
    def model(self) -> Any:
        """The ONNX model: the `ModelProto` here (torch.onnx's is an onnx_ir Model, which
        prints as the graph's text as this does)."""
        return _Printed(self._model_proto)

    def __repr__(self) -> str:
        import onnx

        text = onnx.printer.to_text(self._model_proto)
        indented = "\n".join(" " * 8 + line for line in text.splitlines())
        return (f"ONNXProgram(\n    model=\n{indented}\n    ,\n    exported_program=\n"
                f"        None\n)\n")

    def optimize(self) -> None:
        """Optimize the graph in place: drop the nodes and initializers no output depends on
        (what Python control flow computed and then did not use, `if x.sum():`). Each op's
        converter already writes its nodes with their constants computed."""
        graph = self._model_proto.graph
        needed = {output.name for output in graph.output}
        kept = []
        for node in reversed(graph.node):
            if any(name in needed for name in node.output):
                kept.append(node)
                needed.update(_reads(node))
        initializers = [item for item in graph.initializer if item.name in needed]
        del graph.node[:]
        graph.node.extend(reversed(kept))
        del graph.initializer[:]
        graph.initializer.extend(initializers)

    def save(self, destination: str | os.PathLike[str], *, include_initializers: bool = True,
             keep_initializers_as_inputs: bool = False, external_data: bool | None = None
             ) -> None:
        """Write the model to `destination`: the initializers (weights) in it, or left out
        (`include_initializers=False`), listed among the inputs too
        (`keep_initializers_as_inputs=True`), or in a file of their own beside it
        (`external_data=True`; past 2GB they always are)."""
        import onnx

        model = self._model_proto
        large = model.ByteSize() > _LARGE_MODEL_BYTES
        external = bool(external_data) or large
        if not include_initializers or keep_initializers_as_inputs or external:
            model = onnx.ModelProto()  # (saving with external data rewrites the model saved)
            model.CopyFrom(self._model_proto)
            if keep_initializers_as_inputs:
                model.graph.input.extend(
                    onnx.helper.make_tensor_value_info(initializer.name, initializer.data_type,
                                                       list(initializer.dims))
                    for initializer in model.graph.initializer)
            if not include_initializers:
                del model.graph.initializer[:]
        if external:
            if not isinstance(destination, (str, os.PathLike)):
                raise TypeError("The destination must be a file path when saving with external "
                                "data.")
            location = os.path.basename(os.fspath(destination)) + ".data"
            onnx.save_model(model, destination, save_as_external_data=True,
                            all_tensors_to_one_file=True, location=location, size_threshold=0)
        else:
            onnx.save_model(model, destination)

    def __call__(self, *args: Any, **kwargs: Any) -> Sequence[Tensor]:
        """Run the model in onnxruntime on the Tensors among the arguments, in order."""
        if self._inference_session is None:
            self.initialize_inference_session()
        inputs = _flatten((args, kwargs))
        names = [value.name for value in self._inference_session.get_inputs()]
        feed = {name: tensor.detach().cpu().numpy() for name, tensor in zip(names, inputs)}
        outputs = self._inference_session.run(None, feed)
        return tuple(from_numpy(output) for output in outputs)

    def initialize_inference_session(self, initializer: Any = None) -> None:
        """Make the onnxruntime session `__call__` runs (`initializer(model_bytes)` makes it
        when given)."""
        import onnxruntime

        model_bytes = self._model_proto.SerializeToString()
        if initializer is not None:
            self._inference_session = initializer(model_bytes)
            return
        self._inference_session = onnxruntime.InferenceSession(
            model_bytes, providers=["CPUExecutionProvider"])

    def release(self) -> None:
        """Drop the onnxruntime session."""
        self._inference_session = None


class _Printed:
    """A ModelProto that prints as ONNX's text form of the graph."""

    def __init__(self, model_proto: Any) -> None:
        self._model_proto = model_proto

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model_proto, name)

    def __str__(self) -> str:
        import onnx

        return str(onnx.printer.to_text(self._model_proto))


_LARGE_MODEL_BYTES = 2 * 1024**3  # protobuf's limit on one message


def _reads(node: Any) -> set[str]:
    """The values a node reads, with those its subgraphs (an If's branches) read."""
    names = set(node.input)
    for attribute in node.attribute:
        for subgraph in [attribute.g, *attribute.graphs]:
            for inner in subgraph.node:
                names.update(_reads(inner))
    return names


def _flatten(obj: Any) -> list[Tensor]:
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [tensor for item in obj for tensor in _flatten(item)]
    if isinstance(obj, dict):
        return [tensor for item in obj.values() for tensor in _flatten(item)]
    return []
