"""What each placeholder and each output of an exported graph is (torch.export.graph_signature):
a parameter, buffer or constant tensor lifted out of the module (with its name there), or one of
the user's inputs and outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Any

__all__ = ["ConstantArgument", "ExportGraphSignature", "InputKind", "InputSpec", "OutputKind",
           "OutputSpec", "TensorArgument"]


class InputKind(Enum):
    USER_INPUT = auto()
    PARAMETER = auto()
    BUFFER = auto()
    CONSTANT_TENSOR = auto()
    CUSTOM_OBJ = auto()
    TOKEN = auto()


class OutputKind(Enum):
    USER_OUTPUT = auto()
    LOSS_OUTPUT = auto()
    BUFFER_MUTATION = auto()
    GRADIENT_TO_PARAMETER = auto()
    GRADIENT_TO_USER_INPUT = auto()
    USER_INPUT_MUTATION = auto()
    TOKEN = auto()


@dataclass
class TensorArgument:
    """A tensor value of the graph, by its node's name."""

    name: str


@dataclass
class ConstantArgument:
    """A value that is not a tensor (an int, a string, None...), fixed when exported."""

    name: str
    value: Any


@dataclass
class InputSpec:
    kind: InputKind
    arg: TensorArgument | ConstantArgument
    target: str | None
    persistent: bool | None = None


@dataclass
class OutputSpec:
    kind: OutputKind
    arg: TensorArgument | ConstantArgument
    target: str | None


@dataclass
class ExportGraphSignature:
    """The specs of the graph's placeholders (in order) and of its outputs (in order)."""

    input_specs: list[InputSpec] = field(default_factory=list)
    output_specs: list[OutputSpec] = field(default_factory=list)

    def _names(self, kind: InputKind) -> list[str]:
        return [spec.arg.name for spec in self.input_specs if spec.kind is kind]

    @property
    def parameters(self) -> list[str]:
        """The parameters' names in the module (`lin.weight`)."""
        return [str(spec.target) for spec in self.input_specs if spec.kind is InputKind.PARAMETER]

    @property
    def buffers(self) -> list[str]:
        return [str(spec.target) for spec in self.input_specs if spec.kind is InputKind.BUFFER]

    @property
    def non_persistent_buffers(self) -> list[str]:
        return [str(spec.target) for spec in self.input_specs
                if spec.kind is InputKind.BUFFER and spec.persistent is False]

    @property
    def lifted_tensor_constants(self) -> list[str]:
        return [str(spec.target) for spec in self.input_specs
                if spec.kind is InputKind.CONSTANT_TENSOR]

    @property
    def user_inputs(self) -> list[Any]:
        """The user inputs' placeholder names (a constant input's value)."""
        return [spec.arg.name if isinstance(spec.arg, TensorArgument) else spec.arg.value
                for spec in self.input_specs if spec.kind is InputKind.USER_INPUT]

    @property
    def user_outputs(self) -> list[Any]:
        return [spec.arg.name if isinstance(spec.arg, TensorArgument) else spec.arg.value
                for spec in self.output_specs if spec.kind is OutputKind.USER_OUTPUT]

    @property
    def inputs_to_parameters(self) -> dict[str, str]:
        return {spec.arg.name: str(spec.target) for spec in self.input_specs
                if spec.kind is InputKind.PARAMETER}

    @property
    def inputs_to_buffers(self) -> dict[str, str]:
        return {spec.arg.name: str(spec.target) for spec in self.input_specs
                if spec.kind is InputKind.BUFFER}

    @property
    def inputs_to_lifted_tensor_constants(self) -> dict[str, str]:
        return {spec.arg.name: str(spec.target) for spec in self.input_specs
                if spec.kind is InputKind.CONSTANT_TENSOR}

    @property
    def buffers_to_mutate(self) -> dict[str, str]:
        return {spec.arg.name: str(spec.target) for spec in self.output_specs
                if spec.kind is OutputKind.BUFFER_MUTATION}

    def __str__(self) -> str:
        lines = ["", "# inputs"]
        for spec in self.input_specs:
            line = f"{spec.arg.name}: {spec.kind.name}"
            if spec.target is not None:
                line += f" target={spec.target!r}"
            if spec.persistent is not None:
                line += f" persistent={spec.persistent}"
            lines.append(line)
        lines += ["", "# outputs"]
        for output in self.output_specs:
            line = f"{output.arg.name}: {output.kind.name}"
            if output.target is not None:
                line += f" target={output.target!r}"
            lines.append(line)
        return "\n".join(lines) + "\n"
