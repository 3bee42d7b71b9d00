"""autodiff.func (torch.func): composable function transforms."""

from __future__ import annotations

from .eager_transforms import grad, grad_and_value, hessian, jacrev, vjp
from .forward_transforms import jacfwd, jvp, linearize
from .functional_call import functional_call, stack_module_state
from .module_utils import functionalize, replace_all_batch_norm_modules_
from .rearrange import rearrange
from .vmap import debug_unwrap, vmap

__all__ = ["debug_unwrap", "functional_call", "functionalize", "grad", "grad_and_value",
           "hessian", "jacfwd", "jacrev", "jvp", "linearize", "rearrange",
           "replace_all_batch_norm_modules_", "stack_module_state", "vjp", "vmap"]
