"""The older `nn.utils.spectral_norm` (PyTorch keeps it beside `parametrizations.spectral_norm`):
the weight becomes the parameter `<name>_orig` and the buffers `<name>_u`, `<name>_v`; a forward
pre-hook sets `<name>` = weight / sigma before each forward, with one power iteration per
training forward. A checkpoint that stored the normalised weight itself (PyTorch's first
format) is converted on load. autodiff's state dicts carry no `_metadata`, so the version
record PyTorch's state-dict hook writes there has no place to go."""

from __future__ import annotations

from typing import Any

from ...creation import randn
from ...grad_mode import no_grad
from ...tensor import Tensor, _wrap
from .. import functional as F
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that sets module.<name> = <name>_orig / sigma."""

    _version: int = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.dim()) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():  # u and v in place: replicas sharing the buffers see the update
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(weight_mat.mT @ u, dim=0, eps=self.eps))
                    u.copy_(F.normalize(weight_mat @ v, dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat: Tensor, u: Tensor,
                             target_sigma: Tensor) -> Tensor:
        """The v with u^T W v = target_sigma that the power iteration would pair with u:
        v = pinv(W^T W) W^T u, rescaled."""
        backend = weight_mat._backend
        gram = backend.matmul(backend.permute_dims(weight_mat._data, (1, 0)), weight_mat._data)
        left, values, right = backend.svd(gram)
        cutoff = 1e-15 * backend.item(backend.max(values)) if values.size else 0.0
        inverse_values = backend.where(backend.greater(values, cutoff),
                                       backend.divide(1.0, backend.maximum(values, cutoff)), 0.0)
        pseudo_inverse = backend.matmul(backend.permute_dims(right, (1, 0)) * inverse_values,
                                        backend.permute_dims(left, (1, 0)))
        v = _wrap(pseudo_inverse, backend) @ (weight_mat.mT @ u)
        return v * (target_sigma / (u * (weight_mat @ v)).sum())

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = F.normalize(randn(h, dtype=weight.dtype, device=weight.device), dim=0,
                            eps=fn.eps)
            v = F.normalize(randn(w, dtype=weight.dtype, device=weight.device), dim=0,
                            eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Loads PyTorch's first spectral-norm format (the normalised weight under `<name>`, no
    `<name>_v`): v is solved for from the stored u and sigma."""

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, state_dict: Any, prefix: str, local_metadata: Any, strict: bool,
                 missing_keys: list[str], unexpected_keys: list[str],
                 error_msgs: list[str]) -> None:
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        weight_key = prefix + fn.name
        if (version is None and weight_key not in state_dict
                and all(weight_key + suffix in state_dict for suffix in ("_orig", "_u", "_v"))):
            return  # the current format, without metadata
        missing = False
        for suffix in ("_orig", "", "_u"):
            if weight_key + suffix not in state_dict:
                missing = True
                if strict:
                    missing_keys.append(weight_key + suffix)
        if missing:
            return
        with no_grad():
            weight_orig = state_dict[weight_key + "_orig"]
            weight = state_dict.pop(weight_key)
            sigma = (weight_orig / weight).mean()
            weight_mat = fn.reshape_weight_to_matrix(weight_orig)
            state_dict[weight_key + "_v"] = fn._solve_v_and_rescale(
                weight_mat, state_dict[weight_key + "_u"], sigma)


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide module.<name> by its spectral norm before each forward (dim: the output dim, 1
    for transposed convolutions, 0 otherwise)."""
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo spectral_norm: module.<name> is a plain parameter again (its current value)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for key, wrapped in module._load_state_dict_pre_hooks.items():
        hook = getattr(wrapped, "hook", wrapped)
        if isinstance(hook, SpectralNormLoadStateDictPreHook) and hook.fn.name == name:
            del module._load_state_dict_pre_hooks[key]
            break
    return module
