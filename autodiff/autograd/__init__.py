"""`autodiff.autograd`, shaped like `torch.autograd`.

`backward` and `grad` (gradients.py) normalise their arguments and call the one engine entry,
`engine.run_backward`. Around them: custom ops (`Function`), `functional` (jacobian, hessian,
vector products), `gradcheck`/`gradgradcheck`, anomaly mode, `graph` (saved-tensor hooks)
and `profiler`.
"""

from __future__ import annotations

from ..engine import is_checkpoint_valid as _is_checkpoint_valid
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from . import anomaly_mode, forward_ad, function, functional, graph, profiler, variable
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .function import Function
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .gradients import backward, grad
from .variable import Variable

__all__ = [
    "Function", "GradcheckError", "Variable", "anomaly_mode", "backward", "detect_anomaly",
    "enable_grad", "forward_ad", "function", "functional", "grad", "gradcheck", "gradgradcheck",
    "graph", "inference_mode", "no_grad", "profiler", "set_detect_anomaly", "set_grad_enabled",
    "variable",
]
