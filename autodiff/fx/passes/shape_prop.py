"""torch.fx.passes.shape_prop: run a GraphModule on example inputs and record each node's
tensor metadata (shape, dtype, requires_grad, stride, memory format) in
`node.meta['tensor_meta']`, and the type of its value in `node.meta['type']`."""

from __future__ import annotations

import traceback
from typing import Any, NamedTuple

from autodiff.tensor import Tensor

from ..interpreter import Interpreter
from ..node import Node, map_aggregate

__all__ = ["ShapeProp", "TensorMetadata"]


class TensorMetadata(NamedTuple):
    """What ShapeProp records of a tensor."""

    shape: Any
    dtype: Any
    requires_grad: bool
    stride: tuple[int, ...]
    memory_format: Any
    is_quantized: bool
    qparams: dict[str, Any]


def _extract_tensor_metadata(result: Tensor, include_contiguity: bool = True) -> TensorMetadata:
    import autodiff
    # autodiff's tensors have the row-major layout only: contiguous, or no format
    memory_format = None
    if include_contiguity and not result.is_sparse and result.is_contiguous():
        memory_format = autodiff.contiguous_format
    stride = result.stride() if not result.is_sparse else ()
    return TensorMetadata(result.shape, result.dtype, result.requires_grad, stride,
                          memory_format, False, {})


class ShapeProp(Interpreter):
    """Runs the module node by node (`propagate(*args)`), recording tensor metadata::

        ShapeProp(gm).propagate(sample_input)
        for node in gm.graph.nodes:
            print(node.name, node.meta['tensor_meta'].dtype, node.meta['tensor_meta'].shape)
    """

    def __init__(self, gm: Any, fake_mode: Any = None) -> None:
        super().__init__(gm)
        if fake_mode is not None:
            raise NotImplementedError("ShapeProp(fake_mode=...): autodiff has no fake tensors; "
                                      "run it on real (or meta-device) inputs")
        self.fake_module = None
        self.fake_mode = None
        self.real_module = self.module

    def run_node(self, n: Node) -> Any:
        try:
            result = super().run_node(n)
        except Exception as error:
            traceback.print_exc()
            raise RuntimeError(f"ShapeProp error for: node={n.format_node()} with "
                               f"meta={n.meta}") from error
        found_tensor = False

        def extract_tensor_meta(obj: Any) -> Any:
            nonlocal found_tensor
            if isinstance(obj, Tensor):
                found_tensor = True
                return _extract_tensor_metadata(obj)
            return obj

        meta = map_aggregate(result, extract_tensor_meta)
        if found_tensor:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args: Any) -> Any:
        """Run the module on `args`, recording each node's metadata; returns its output."""
        return super().run(*args)
