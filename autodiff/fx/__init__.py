"""autodiff.fx (torch.fx): capture a module or function as a Graph of Nodes by running it on
Proxies (`symbolic_trace`), change the graph, and run it again as a GraphModule whose forward
is the graph's generated Python code.

    gm = autodiff.fx.symbolic_trace(model)
    print(gm.graph)   # the nodes, as PyTorch prints them
    print(gm.code)    # the generated forward
"""

from . import passes
from ._symbolic_trace import PH, ProxyableClassMeta, Tracer, symbolic_trace, wrap
from .graph import CodeGen, Graph
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, has_side_effect, map_arg
from .proxy import Proxy
from .subgraph_rewriter import replace_pattern

__all__ = ["PH", "CodeGen", "Graph", "GraphModule", "Interpreter", "Node", "Proxy",
           "ProxyableClassMeta", "Tracer", "Transformer", "has_side_effect", "map_arg",
           "passes", "replace_pattern", "symbolic_trace", "wrap"]
