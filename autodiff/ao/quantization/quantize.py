"""Eager-mode dynamic quantization (`torch.ao.quantization.quantize`): `quantize_dynamic`
gives each module a qconfig (`propagate_qconfig_`), then `convert` swaps every module whose
type the mapping names for its quantized form (`from_float`)."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from ... import dtypes
from ...nn.modules.module import Module
from ...user_warnings import warn
from .qconfig import default_dynamic_qconfig, float16_dynamic_qconfig
from .quantization_mappings import get_default_dynamic_quant_module_mappings

DEPRECATION_WARNING = (
    "torch.ao.quantization is deprecated and will be removed in 2.10. \n"
    "For migrations of users: \n"
    "1. Eager mode quantization (torch.ao.quantization.quantize, "
    "torch.ao.quantization.quantize_dynamic), please migrate to use torchao eager mode "
    "quantize_ API instead \n"
    "2. FX graph mode quantization (torch.ao.quantization.quantize_fx.prepare_fx,"
    "torch.ao.quantization.quantize_fx.convert_fx, please migrate to use torchao pt2e "
    "quantization API instead (prepare_pt2e, convert_pt2e) \n"
    "3. pt2e quantization has been migrated to torchao "
    "(https://github.com/pytorch/ao/tree/main/torchao/quantization/pt2e) \n"
    "see https://github.com/pytorch/ao/issues/2259 for more details")


def _float_modules_with(qconfig: Any) -> dict[type, Any]:
    from ... import nn

    return {kind: qconfig for kind in (nn.Linear, nn.LSTM, nn.GRU, nn.LSTMCell, nn.RNNCell,
                                       nn.GRUCell)}


def _refuse_embedding(dtype: Any) -> None:
    raise NotImplementedError(
        f"quantize_dynamic with dtype={dtype} quantizes nn.Embedding and nn.EmbeddingBag "
        "weights, which autodiff does not implement; qint8 and float16 (Linear and the RNNs) "
        "are supported")


def quantize_dynamic(model: Module, qconfig_spec: Any = None, dtype: Any = dtypes.qint8,
                     mapping: Any = None, inplace: bool = False) -> Module:
    """`model` with its Linear and RNN layers (or those `qconfig_spec` names) replaced by
    dynamic quantized ones: weights stored as qint8 (or float16), activations quantized per
    call. `qconfig_spec`: a set of module types or names (quantized with `dtype`), or a dict
    from type or name to QConfig. A copy unless `inplace`."""
    warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    if qconfig_spec is None:
        if dtype is dtypes.qint8:
            qconfig_spec = _float_modules_with(default_dynamic_qconfig)
        elif dtype is dtypes.float16:
            qconfig_spec = _float_modules_with(float16_dynamic_qconfig)
        elif dtype is dtypes.quint8 or dtype is dtypes.quint4x2:
            _refuse_embedding(dtype)
        else:
            raise ValueError(f"Don't know how to quantize with default settings for {dtype}. "
                             "Provide full qconfig please")
    elif isinstance(qconfig_spec, set):
        if dtype is dtypes.qint8:
            default_qconfig = default_dynamic_qconfig
        elif dtype is dtypes.float16:
            default_qconfig = float16_dynamic_qconfig
        elif dtype is dtypes.quint8 or dtype is dtypes.quint4x2:
            _refuse_embedding(dtype)
        else:
            raise RuntimeError("Unknown dtype specified for quantize_dynamic: ", str(dtype))
        qconfig_spec = dict(zip(qconfig_spec, itertools.repeat(default_qconfig)))
    if mapping is None:
        mapping = get_default_dynamic_quant_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    convert(model, mapping, inplace=True)
    return model


def propagate_qconfig_(module: Module, qconfig_dict: Any = None,
                       prepare_custom_config_dict: Any = None) -> None:
    """Set `qconfig` on `module` and its descendants: the entry for a module's type, else for
    its dotted name, else its parent's; a qconfig a module already has is kept."""
    _propagate(module, qconfig_dict or {}, None, "")


def _propagate(module: Module, qconfig_dict: Any, parent_qconfig: Any, prefix: str) -> None:
    qconfig = qconfig_dict.get(type(module), parent_qconfig)
    qconfig = qconfig_dict.get(prefix, qconfig)
    qconfig = getattr(module, "qconfig", qconfig)
    module.qconfig = qconfig
    for name, child in module.named_children():
        _propagate(child, qconfig_dict, qconfig, f"{prefix}.{name}" if prefix else name)


def convert(module: Module, mapping: Any = None, inplace: bool = False,
            remove_qconfig: bool = True, is_reference: bool = False,
            convert_custom_config_dict: Any = None,
            use_precomputed_fake_quant: bool = False) -> Module:
    """Swap each submodule whose type `mapping` names (and that has a qconfig) for its
    quantized form, children first; then remove the qconfigs."""
    warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    if is_reference:
        raise NotImplementedError("convert(is_reference=True): reference quantized modules "
                                  "are not implemented")
    if mapping is None:
        raise NotImplementedError("convert without a mapping swaps in static quantized "
                                  "modules, which autodiff does not implement; pass "
                                  "get_default_dynamic_quant_module_mappings()")
    if not inplace:
        module = copy.deepcopy(module)
    _convert(module, mapping)
    if remove_qconfig:
        _remove_qconfig(module)
    return module


def _convert(module: Module, mapping: Any) -> None:
    swapped = {}
    for name, child in module.named_children():
        _convert(child, mapping)
        swapped[name] = swap_module(child, mapping, {})
    for name, child in swapped.items():
        module._modules[name] = child


def swap_module(mod: Module, mapping: Any, custom_module_class_mapping: Any,
                use_precomputed_fake_quant: bool = False) -> Module:
    """The quantized counterpart of `mod` when it has a qconfig and `mapping` names its type
    (its forward hooks carried over), else `mod` itself."""
    if getattr(mod, "qconfig", None) is None:
        return mod
    kind = type(mod)
    if kind in custom_module_class_mapping:
        new_mod = custom_module_class_mapping[kind].from_observed(mod)
    elif kind in mapping:
        new_mod = mapping[kind].from_float(mod)
    else:
        return mod
    for hook in mod._forward_pre_hooks.values():
        new_mod.register_forward_pre_hook(hook)
    for hook in mod._forward_hooks.values():
        new_mod.register_forward_hook(hook)
    return new_mod


def _remove_qconfig(module: Module) -> None:
    for child in module.children():
        _remove_qconfig(child)
    if hasattr(module, "qconfig"):
        del module.qconfig
