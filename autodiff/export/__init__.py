"""autodiff.export (torch.export): capture a module's forward as one graph of autodiff's ops,
ahead of time, with its parameters lifted into inputs and its input shapes checked.

    ep = autodiff.export.export(model, (x,), dynamic_shapes={"x": {0: Dim("batch")}})
    print(ep)              # the graph, its signature, the dynamic sizes' ranges
    ep.module()(x2)        # runs it; raises where x2's shape is outside what was exported
    autodiff.export.save(ep, "model.pt2"); autodiff.export.load("model.pt2")

PyTorch's graph holds ATen ops; this one holds autodiff's functions and Tensor methods (see
docs/export.md).
"""

from __future__ import annotations

from typing import Any

from autodiff.nn import Module

from ._serialize import load, save
from ._trace import trace_module
from .dynamic_shapes import Dim, DimHint, UserError, dims
from .exported_program import ExportedProgram, ModuleCallSignature, lift, unflatten
from .graph_signature import ExportGraphSignature

__all__ = ["Dim", "DimHint", "ExportGraphSignature", "ExportedProgram", "ModuleCallSignature",
           "dims", "export", "load", "save", "unflatten"]


def export(mod: Module, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None, *,
           dynamic_shapes: Any = None, strict: bool = False,
           preserve_module_call_signature: tuple[str, ...] = ()) -> ExportedProgram:
    """Trace `mod(*args, **kwargs)` into an ExportedProgram.

    dynamic_shapes: per input (a dict by the forward's parameter names, or a tuple in their
    order), None (static), or per dimension a `Dim` (dynamic in its range), Dim.AUTO,
    Dim.DYNAMIC, Dim.STATIC, or an int (that size). strict: PyTorch's choice between tracing
    with TorchDynamo (True) and running the Python (False); autodiff has the one tracer, which
    runs the Python, so both give the same program.
    """
    if not isinstance(mod, Module):
        raise ValueError(f"Expected `mod` to be an instance of `torch.nn.Module`, got "
                         f"{type(mod)}.")
    if not isinstance(args, tuple):
        raise UserError("Expecting `args` to be a tuple of example positional inputs, got "
                        f"{type(args)}")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise ValueError(f"Expected `kwargs` to be a dictionary, got {type(kwargs)}")
    if preserve_module_call_signature:
        raise NotImplementedError("autodiff.export: preserve_module_call_signature is not "
                                  "supported (unflatten keeps one graph for the whole module)")
    kwargs = kwargs or {}
    traced = trace_module(mod, args, kwargs, dynamic_shapes)
    return lift(traced, mod, args, kwargs)
