"""`autodiff.nn`: layers and losses (see `functional` for the function forms)."""

from . import functional

# (issue 6, nn modules: add imports right below this line)
# isort: split
from . import init, utils
from .modules import (
    GELU,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    L1Loss,
    LayerNorm,
    Linear,
    LogSoftmax,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .parameter import Parameter

# (issue 7, distributed: add imports right below this line)
# isort: split
from . import parallel
