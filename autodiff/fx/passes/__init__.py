"""torch.fx.passes: the analyses autodiff provides (shape_prop)."""

from . import shape_prop
