"""`autodiff.nn`: layers and losses (see `functional` for the function forms)."""

from . import functional

# (issue 6, nn modules: add imports right below this line)
