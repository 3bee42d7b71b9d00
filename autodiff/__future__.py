"""`autodiff.__future__` (torch.__future__): switches for behaviours PyTorch means to make the
default, read by `nn.Module._apply` (`.to()`, `.float()`, `.cuda()`, ...) and
`load_state_dict`.

- overwrite_module_params_on_conversion: a conversion assigns a new Parameter to the module
  instead of changing the existing one's `.data` (optimizers holding the old one see no
  change).
- swap_module_params_on_conversion (takes precedence): a conversion, and `load_state_dict`,
  keep each Parameter object and swap its contents with the converted or loaded tensor
  (`autodiff.utils.swap_tensors`); `load_state_dict` maps each loaded value through
  `Tensor.module_load` first.
"""

from __future__ import annotations


class _Flags:
    overwrite_module_params_on_conversion = False
    swap_module_params_on_conversion = False


_flags = _Flags()


def set_overwrite_module_params_on_conversion(value: bool) -> None:
    _flags.overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion() -> bool:
    return _flags.overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value: bool) -> None:
    _flags.swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion() -> bool:
    return _flags.swap_module_params_on_conversion
