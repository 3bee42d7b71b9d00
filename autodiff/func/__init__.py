"""autodiff.func (torch.func): composable function transforms."""

from __future__ import annotations

from .eager_transforms import grad, grad_and_value, hessian, jacrev, vjp
from .forward_transforms import jacfwd, jvp, linearize
from .functional_call import functional_call, stack_module_state
from .vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "linearize", "stack_module_state", "vjp", "vmap"]
