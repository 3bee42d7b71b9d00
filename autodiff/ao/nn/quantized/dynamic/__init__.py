"""`torch.ao.nn.quantized.dynamic`: layers with quantized weights whose activations are
quantized per call."""

from .linear import Linear
from .rnn import GRU, LSTM, GRUCell, LSTMCell, RNNCell

__all__ = ["GRU", "LSTM", "GRUCell", "LSTMCell", "Linear", "RNNCell"]
