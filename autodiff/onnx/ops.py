"""Steps of a captured program as ONNX nodes: one table entry per backend function or array
operator with an ONNX equivalent."""

from __future__ import annotations

from typing import Any

from ..compiler.program import Program
from ..compiler.tracing import Ref, Step

# Elementwise and matrix functions: the same operands, in order.
_SAME_OPERANDS = {
    "add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div", "maximum": "Max",
    "minimum": "Min", "negative": "Neg", "exp": "Exp", "log": "Log", "tanh": "Tanh",
    "sqrt": "Sqrt", "abs": "Abs", "sigmoid": "Sigmoid", "erf": "Erf", "matmul": "MatMul",
    "pow": "Pow", "sin": "Sin", "cos": "Cos", "floor": "Floor", "ceil": "Ceil",
    "equal": "Equal", "less": "Less", "greater": "Greater", "where": "Where",
    "logical_not": "Not", "reciprocal": "Reciprocal", "softplus": "Softplus",
    # the array operators a proxy records (`out += b` writes a new ONNX value)
    "sub": "Sub", "mul": "Mul", "truediv": "Div", "neg": "Neg", "iadd": "Add", "isub": "Sub",
    "imul": "Mul", "itruediv": "Div",
}
_IN_PLACE = frozenset({"iadd", "isub", "imul", "itruediv"})
_ONNX_TYPES = {"float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7,
               "bool": 9, "float16": 10, "float64": 11}


class GraphBuilder:
    """Collects nodes, initializers, inputs and outputs, naming each value `v<number>`."""

    def __init__(self, program: Program, opset: int) -> None:
        self.program = program
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self.names: dict[int, str] = {}
        self.count = 0
        self.pending: list[tuple[str, Any]] = []  # (name, host array) constants
        self.scalars: list[tuple[str, Any, str]] = []  # (name, number, dtype name)

    # ----------------------------------------------------------------------------- values
    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def name(self, vid: int) -> str:
        if vid not in self.names:
            constant = self.program.constants.get(vid)
            if constant is None:
                raise RuntimeError(f"autodiff.onnx.export: value v{vid} has no source")
            self.names[vid] = self.fresh("constant")
            self.pending.append((self.names[vid], _host(constant)))
        return self.names[vid]

    def dtype_name(self, vid: int) -> str:
        return str(self.program.meta[vid][1])

    def operand(self, item: Any, like: str) -> str:
        """An ONNX value for a step's operand: a value, or a number in the dtype `like`."""
        if type(item) is Ref:
            return self.name(item.vid)
        if type(item) in (int, float, bool):
            name = self.fresh("scalar")
            self.scalars.append((name, item, like))
            return name
        raise RuntimeError(f"autodiff.onnx.export: operand {item!r} has no ONNX form")

    def graph_input(self, vid: int, name: str, tensor: Any, dynamic: dict[int, str]) -> None:
        self.names[vid] = name
        shape = [dynamic.get(axis, size) for axis, size in enumerate(tensor._data.shape)]
        self.inputs.append((name, tensor._backend.dtype_name(tensor._data), shape))

    def initializer(self, vid: int, host: Any) -> None:
        name = self.fresh("param")
        self.names[vid] = name
        self.pending.append((name, host))

    def graph_output(self, vid: int, name: str, dynamic: dict[int, str]) -> None:
        shape, dtype = self.program.meta[vid]
        self.nodes.append(("Identity", [self.name(vid)], [name], {}))
        self.outputs.append((name, str(dtype),
                             [dynamic.get(axis, size) for axis, size in enumerate(shape)]))

    # ----------------------------------------------------------------------------- steps
    def step(self, step: Step) -> None:
        name = step.name
        if name == "guard":
            return
        output = step.outputs
        refs = [item for item in step.args if type(item) is Ref]
        like = self.dtype_name(refs[0].vid) if refs else "float32"
        if name in _SAME_OPERANDS:
            operands = [self.operand(item, like) for item in step.args]
            target = step.args[0].vid if name in _IN_PLACE else output
            if not isinstance(target, int):
                raise _unsupported(step)
            result = self.fresh(name)
            self.nodes.append((_SAME_OPERANDS[name], operands, [result], {}))
            self.names[target] = result
            return
        if not isinstance(output, int):
            raise _unsupported(step)
        source = self.operand(step.args[0], like)
        result = self.fresh(name)
        if name == "permute_dims":
            self.nodes.append(("Transpose", [source], [result], {"perm": list(step.args[1])}))
        elif name == "reshape" and tuple(step.args[1]) == self.program.meta[step.args[0].vid][0]:
            self.nodes.append(("Identity", [source], [result], {}))  # a no-op (keeps dynamic axes)
        elif name == "reshape":
            shape = self.fresh("shape")
            self.pending.append((shape, list(step.args[1])))
            self.nodes.append(("Reshape", [source, shape], [result], {}))
        elif name in ("log_softmax", "softmax"):
            axis = step.args[1] if len(step.args) > 1 else step.kwargs.get("axis", -1)
            kind = "LogSoftmax" if name == "log_softmax" else "Softmax"
            self.nodes.append((kind, [source], [result], {"axis": int(axis)}))
        elif name == "astype":
            self.nodes.append(("Cast", [source], [result], {"to": _ONNX_TYPES[step.args[1]]}))
        else:
            raise _unsupported(step)
        self.names[output] = result

    # ----------------------------------------------------------------------------- the model
    def build(self, onnx: Any) -> Any:
        helper = onnx.helper
        initializers = []
        for name, host in self.pending:
            if isinstance(host, list):  # a shape
                initializers.append(helper.make_tensor(name, onnx.TensorProto.INT64,
                                                       [len(host)], host))
            else:
                initializers.append(onnx.numpy_helper.from_array(host, name))
        for name, value, like in self.scalars:
            initializers.append(helper.make_tensor(name, _ONNX_TYPES[like], [], [value]))
        nodes = [helper.make_node(kind, inputs, outputs, **attributes)
                 for kind, inputs, outputs, attributes in self.nodes]
        graph = helper.make_graph(
            nodes, "autodiff",
            [helper.make_tensor_value_info(name, _ONNX_TYPES[dtype], shape)
             for name, dtype, shape in self.inputs],
            [helper.make_tensor_value_info(name, _ONNX_TYPES[dtype], shape)
             for name, dtype, shape in self.outputs],
            initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                 producer_name="autodiff")


def _host(array: Any) -> Any:
    return array.__array__() if hasattr(array, "__array__") else array


def _unsupported(step: Step) -> RuntimeError:
    return RuntimeError(f"autodiff.onnx.export: the step {step.name!r} has no ONNX equivalent")
