"""RNN, LSTM (proj_size), GRU and their cells: parameters, reprs and state dicts as PyTorch's,
PyTorch's state dicts loaded and giving its outputs and gradients (padded, unbatched, packed,
given states, every option), the fast backward against the elementary-op twin, double backward,
dropout between layers, devices, and PyTorch's errors and warnings."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import autograd, nn
from autodiff.nn.utils import rnn as rnn_utils
from autodiff.ops import rnn as rnn_ops
from tests.compare import same_error

F64 = autodiff.float64

CONFIGS = [
    (nn.LSTM, {}),
    (nn.LSTM, {"num_layers": 2, "batch_first": True}),
    (nn.LSTM, {"num_layers": 2, "bidirectional": True, "proj_size": 3}),
    (nn.LSTM, {"bias": False, "proj_size": 2, "batch_first": True}),
    (nn.GRU, {"bias": False, "bidirectional": True}),
    (nn.GRU, {"num_layers": 3, "batch_first": True}),
    (nn.RNN, {"nonlinearity": "relu", "num_layers": 3}),
    (nn.RNN, {"batch_first": True, "bidirectional": True, "num_layers": 2}),
]
IDS = [f"{cls.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
       for cls, kw in CONFIGS]


def _np(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in _flat(part)]
    return [value]


def _expected_names(mode: str, num_layers: int, bidirectional: bool, bias: bool,
                    proj_size: int) -> list[str]:
    names = []
    for layer in range(num_layers):
        for suffix in ("", "_reverse")[:2 if bidirectional else 1]:
            stems = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
            stems += ["weight_hr"] if proj_size else []
            names += [f"{stem}_l{layer}{suffix}" for stem in stems]
    return names


# ----------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_parameters_follow_pytorch_names_shapes_and_init(cls: type, kwargs: dict[str, Any]
                                                         ) -> None:
    autodiff.manual_seed(0)
    module = cls(4, 5, **kwargs)
    names = [name for name, _ in module.named_parameters()]
    assert names == _expected_names(cls.__name__, kwargs.get("num_layers", 1),
                                    kwargs.get("bidirectional", False), kwargs.get("bias", True),
                                    kwargs.get("proj_size", 0))
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[cls.__name__] * 5
    hidden = kwargs.get("proj_size") or 5
    directions = 2 if kwargs.get("bidirectional") else 1
    assert tuple(module.weight_ih_l0.shape) == (gates, 4)
    assert tuple(module.weight_hh_l0.shape) == (gates, hidden)
    if kwargs.get("num_layers", 1) > 1:
        assert tuple(module.weight_ih_l1.shape) == (gates, hidden * directions)
    bound = 1 / np.sqrt(5)
    values = np.concatenate([_np(p).ravel() for p in module.parameters()])
    assert np.all(np.abs(values) <= bound) and values.std() > bound / 3
    assert module.all_weights[0][0] is module.weight_ih_l0
    module.flatten_parameters()  # a no-op kept for PyTorch code


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_repr_and_state_dict_match_pytorch(cls: type, kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = cls(4, 5, **kwargs), getattr(torch.nn, cls.__name__)(4, 5, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


def test_reprs() -> None:
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True)) == \
        "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(nn.GRU(3, 4, bias=False, dropout=0.5, num_layers=2, bidirectional=True)) == \
        "GRU(3, 4, num_layers=2, bias=False, dropout=0.5, bidirectional=True)"
    assert repr(nn.LSTM(3, 4, proj_size=2)) == "LSTM(3, 4, proj_size=2)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4)"
    assert repr(nn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == \
        "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    assert repr(nn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


# ----------------------------------------------------------------------------- against PyTorch
def _inputs(torch: Any, case: str, kwargs: dict[str, Any], is_lstm: bool) -> tuple[Any, ...]:
    """(torch input, autodiff input, torch hx, autodiff hx) for one case."""
    rng = np.random.default_rng(1)
    batch_first = kwargs.get("batch_first", False)

    def pair(shape: tuple[int, ...], grad: bool = True) -> tuple[Any, Any]:
        values = rng.standard_normal(shape)
        return (torch.tensor(values, requires_grad=grad),
                autodiff.tensor(values, requires_grad=grad))

    if case == "packed":
        seqs = [pair((length, 4)) for length in (5, 2, 4)]
        return (torch.nn.utils.rnn.pack_sequence([s[0] for s in seqs], enforce_sorted=False),
                rnn_utils.pack_sequence([s[1] for s in seqs], enforce_sorted=False),
                None, None, seqs)
    if case == "unbatched":
        x = pair((6, 4))
        return x[0], x[1], None, None, [x]
    x = pair((3, 6, 4) if batch_first else (6, 3, 4))
    if case != "hx":
        return x[0], x[1], None, None, [x]
    directions = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1)
    h = pair((layers * directions, 3, kwargs.get("proj_size") or 5))
    if is_lstm:
        c = pair((layers * directions, 3, 5))
        return x[0], x[1], (h[0], c[0]), (h[1], c[1]), [x, h, c]
    return x[0], x[1], h[0], h[1], [x, h]


@pytest.mark.parametrize("case", ["padded", "unbatched", "packed", "hx"])
@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_loads_pytorch_state_dict_and_matches_its_outputs_and_gradients(
        cls: type, kwargs: dict[str, Any], case: str) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls.__name__)(4, 5, dtype=torch.float64, **kwargs)
    ours = cls(4, 5, dtype=F64, **kwargs)
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    t_in, a_in, t_hx, a_hx, pairs = _inputs(torch, case, kwargs, cls is nn.LSTM)
    t_out, t_hidden = theirs(t_in, t_hx)
    a_out, a_hidden = ours(a_in, a_hx)
    if case == "packed":
        assert isinstance(a_out, rnn_utils.PackedSequence)
        assert a_out.batch_sizes.tolist() == t_out.batch_sizes.tolist()
        assert a_out.unsorted_indices.tolist() == t_out.unsorted_indices.tolist()
        t_out, a_out = t_out.data, a_out.data
    for mine, reference in zip([a_out, *_flat(a_hidden)], [t_out, *_flat(t_hidden)]):
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(_np(mine), _np(reference), atol=1e-12, rtol=1e-10)
    rng = np.random.default_rng(2)
    upstream = [rng.standard_normal(tuple(t.shape)) for t in [t_out, *_flat(t_hidden)]]
    sum((t * torch.tensor(u)).sum() for t, u in zip([t_out, *_flat(t_hidden)], upstream)
        ).backward()
    sum((a * autodiff.tensor(u)).sum() for a, u in zip([a_out, *_flat(a_hidden)], upstream)
        ).backward()
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(mine.grad), _np(reference.grad), atol=1e-11, rtol=1e-9,
                                   err_msg=name)
    for t_leaf, a_leaf in pairs:
        np.testing.assert_allclose(_np(a_leaf.grad), _np(t_leaf.grad), atol=1e-11, rtol=1e-9)


def test_float32_lstm_matches_pytorch_and_names_its_nodes() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(6, 8, num_layers=2)
    ours = nn.LSTM(6, 8, num_layers=2)
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((7, 4, 6)).astype(np.float32)
    t_out, (t_h, t_c) = theirs(torch.tensor(x))
    a_out, (a_h, a_c) = ours(autodiff.tensor(x))
    assert a_out.dtype is autodiff.float32
    np.testing.assert_allclose(_np(a_out), _np(t_out), atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(_np(a_c), _np(t_c), atol=1e-6, rtol=1e-5)
    # PyTorch's CPU op for one LSTM layer; the final states are stacked per layer, as there.
    assert a_out.grad_fn.name() == t_out.grad_fn.name() == "MkldnnRnnLayerBackward0"
    assert a_h.grad_fn.name() == t_h.grad_fn.name() == "StackBackward0"
    (a_out.sum() + a_c.sum()).backward()
    (t_out.sum() + t_c.sum()).backward()
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(mine.grad), _np(reference.grad), atol=1e-5, rtol=1e-4,
                                   err_msg=name)


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_pytorch(cls: type, batched: bool) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kwargs = {"nonlinearity": "relu"} if cls is nn.RNNCell else {}
    theirs = getattr(torch.nn, cls.__name__)(4, 5, dtype=torch.float64, **kwargs)
    ours = cls(4, 5, dtype=F64, **kwargs)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(3)
    shape = (3, 4) if batched else (4,)
    state = (3, 5) if batched else (5,)
    x, h, c = rng.standard_normal(shape), rng.standard_normal(state), rng.standard_normal(state)
    t_args = [torch.tensor(v, requires_grad=True) for v in (x, h, c)]
    a_args = [autodiff.tensor(v, requires_grad=True) for v in (x, h, c)]
    if cls is nn.LSTMCell:
        t_out = theirs(t_args[0], (t_args[1], t_args[2]))
        a_out = ours(a_args[0], (a_args[1], a_args[2]))
    else:
        t_out, a_out = theirs(t_args[0], t_args[1]), ours(a_args[0], a_args[1])
    for mine, reference in zip(_flat(a_out), _flat(t_out)):
        np.testing.assert_allclose(_np(mine), _np(reference), atol=1e-12)
    if batched and cls is not nn.LSTMCell:
        name = _flat(a_out)[0].grad_fn.name()
        assert name == (_flat(t_out)[0].grad_fn.name() if cls is nn.RNNCell
                        else "ThnnFusedGruCellBackward0")
    sum((t * t).sum() for t in _flat(t_out)).backward()
    sum((a * a).sum() for a in _flat(a_out)).backward()
    for (_, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(mine.grad), _np(reference.grad), atol=1e-11)
    used = 3 if cls is nn.LSTMCell else 2
    for mine, reference in list(zip(a_args, t_args))[:used]:
        np.testing.assert_allclose(_np(mine.grad), _np(reference.grad), atol=1e-11)


def test_lstm_cell_outputs_are_the_fused_node() -> None:
    cell = nn.LSTMCell(3, 4)
    hy, cy = cell(autodiff.randn(2, 3))
    assert hy.grad_fn is cy.grad_fn and hy.grad_fn.name() == "ThnnFusedLstmCellBackward0"
    assert cell(autodiff.randn(3))[0].grad_fn.name() == "SqueezeBackward1"


def test_torch_loads_our_state_dict() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, dtype=F64)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2,
                           dtype=torch.float64)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    np.testing.assert_allclose(_np(ours(autodiff.tensor(x))[0]),
                               _np(theirs(torch.tensor(x))[0]), atol=1e-12)


# ----------------------------------------------------------------------------- without PyTorch
@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_state_dict_round_trip(cls: type, kwargs: dict[str, Any], device: str) -> None:
    autodiff.manual_seed(0)
    source = cls(4, 5, **kwargs).to(device)
    buffer = io.BytesIO()
    autodiff.save(source.state_dict(), buffer)
    buffer.seek(0)
    target = cls(4, 5, **kwargs).to(device)
    assert target.load_state_dict(autodiff.load(buffer)).missing_keys == []
    x = autodiff.randn(3, 6, 4, device=device)
    np.testing.assert_array_equal(_np(source(x)[0]), _np(target(x)[0]))


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_every_device_matches_the_cpu(cls: type, kwargs: dict[str, Any], device: str) -> None:
    autodiff.manual_seed(0)
    on_cpu = cls(4, 5, dtype=F64, **kwargs)
    on_device = cls(4, 5, dtype=F64, **kwargs)
    on_device.load_state_dict(on_cpu.state_dict())
    on_device.to(device)
    values = np.random.default_rng(0).standard_normal((3, 6, 4))
    results = []
    for module, where in ((on_cpu, "cpu"), (on_device, device)):
        x = autodiff.tensor(values, device=where, requires_grad=True)
        packed = rnn_utils.pack_padded_sequence(x, [6, 4, 3], batch_first=True)
        out, hidden = module(x)
        packed_out, _ = module(packed)
        assert out.device == x.device and _flat(hidden)[0].device == x.device
        (out.square().sum() + _flat(hidden)[0].sum() + packed_out.data.sum()).backward()
        results.append([_np(out), _np(x.grad)] + [_np(p.grad) for p in module.parameters()])
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine, reference, atol=1e-12)


TWIN_CASES = [
    ("LSTM", (4, 4, 4), False, False), ("LSTM", (4, 3, 1), True, True),
    ("GRU", (3, 2, 2), False, False), ("GRU", (3, 3, 1), True, False),
    ("RNN_TANH", (2, 2, 1), True, False), ("RNN_RELU", (3, 3), False, False),
]


@pytest.mark.parametrize(("mode", "sizes", "reverse", "projected"), TWIN_CASES)
def test_fused_layer_matches_its_elementary_twin(mode: str, sizes: tuple[int, ...],
                                                 reverse: bool, projected: bool,
                                                 device: str) -> None:
    """The op's forward and fast backward equal the twin's (the op's definition) and its
    autograd gradient."""
    autodiff.manual_seed(0)
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * 3
    out_size = 2 if projected else 3

    def leaf(*shape: int) -> autodiff.Tensor:
        return autodiff.randn(*shape, dtype=F64, device=device, requires_grad=True)

    inputs = [leaf(sum(sizes), gates), leaf(sizes[0], out_size),
              leaf(sizes[0], 3) if mode == "LSTM" else None, leaf(gates, out_size),
              leaf(gates) if mode == "GRU" else None, leaf(out_size, 3) if projected else None]
    fused = rnn_ops.LAYERS[mode].apply(*inputs, batch_sizes=sizes, reverse=reverse, record=True)
    twin = rnn_ops.layer_twin(mode.split("_")[0] if mode.startswith("RNN") else mode,
                              mode.split("_")[-1].lower(), *inputs, sizes, reverse)
    leaves = [t for t in inputs if t is not None]
    upstream = [autodiff.randn(*t.shape, dtype=F64, device=device) for t in fused]
    for a, b in zip(fused, twin):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-13)
    fused_grads = autograd.grad(fused, leaves, upstream)
    twin_grads = autograd.grad(twin, leaves, upstream)
    for a, b in zip(fused_grads, twin_grads):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-12)


def test_double_backward_through_lstm_module() -> None:
    autodiff.manual_seed(0)
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, dtype=F64)
    x = autodiff.randn(3, 2, 2, dtype=F64, requires_grad=True)
    assert autograd.gradgradcheck(lambda t: lstm(t)[0], (x,))
    packed_lengths = [3, 2]
    assert autograd.gradcheck(
        lambda t: lstm(rnn_utils.pack_padded_sequence(t, packed_lengths))[0].data, (x,))


def test_gru_and_cells_twice_differentiable() -> None:
    autodiff.manual_seed(1)
    gru = nn.GRU(2, 2, dtype=F64)
    cell = nn.LSTMCell(2, 2, dtype=F64)
    gru_cell = nn.GRUCell(2, 2, dtype=F64)
    x = autodiff.randn(2, 2, 2, dtype=F64, requires_grad=True)
    assert autograd.gradgradcheck(lambda t: gru(t)[1], (x,))
    assert autograd.gradgradcheck(lambda t: cell(t[0])[1] * cell(t[1])[0], (x,))
    assert autograd.gradgradcheck(lambda t: gru_cell(t[0], t[1]), (x,))


def test_dropout_between_layers(device: str) -> None:
    autodiff.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=1.0).to(device)
    last = nn.LSTM(4, 4).to(device)
    last.load_state_dict({k.replace("_l1", "_l0"): v for k, v in lstm.state_dict().items()
                          if "_l1" in k})
    x = autodiff.randn(5, 2, 3, device=device)
    dropped = lstm(x)[0]  # every output of layer 0 zeroed: layer 1 sees zeros
    np.testing.assert_allclose(_np(dropped), _np(last(autodiff.zeros(5, 2, 4, device=device))[0]),
                               atol=1e-6)
    half = nn.LSTM(3, 4, num_layers=2, dropout=0.5).to(device)
    autodiff.manual_seed(1)
    first = half(x)[0]
    autodiff.manual_seed(1)
    np.testing.assert_array_equal(_np(first), _np(half(x)[0]))  # seeded: reproducible
    half.eval()
    evaluated = half(x)[0]
    assert not np.allclose(_np(first), _np(evaluated))
    np.testing.assert_array_equal(_np(evaluated), _np(half(x)[0]))


def test_no_grad_forward_records_nothing(device: str) -> None:
    lstm = nn.LSTM(3, 4, proj_size=2).to(device)
    x = autodiff.randn(4, 2, 3, device=device)
    with autodiff.no_grad():
        out, _ = lstm(x)
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_allclose(_np(out), _np(lstm(x)[0]), atol=1e-6)


def test_output_changed_in_place_leaves_the_backward_right() -> None:
    rnn = nn.RNN(2, 3, dtype=F64)
    x = autodiff.randn(4, 1, 2, dtype=F64, requires_grad=True)
    out = rnn(x)[0]
    expected = autograd.grad(out.sum(), x, retain_graph=True)[0]
    out2 = rnn(x)[0]
    out2.mul_(2)  # the op keeps its own copies: its backward is unaffected
    np.testing.assert_allclose(_np(autograd.grad(out2.sum(), x)[0]), 2 * _np(expected))


def test_load_state_dict_assign_replaces_the_weights_forward_reads() -> None:
    gru = nn.GRU(2, 3)
    new = {k: autodiff.zeros(*v.shape) for k, v in gru.state_dict().items()}
    gru.load_state_dict(new, assign=True)
    assert gru._flat_weights[0] is gru.weight_ih_l0
    out = gru(autodiff.randn(4, 1, 2))[0]
    np.testing.assert_array_equal(_np(out), 0)


# ----------------------------------------------------------------------------- errors, warnings
ERRORS: list[tuple[str, Callable[[Any], Any], type, str]] = [
    ("dropout range", lambda m: m.nn.LSTM(3, 4, dropout=1.5), ValueError,
     "dropout should be a number in range [0, 1] representing the probability of an element "
     "being zeroed"),
    ("dropout bool", lambda m: m.nn.GRU(3, 4, dropout=True), ValueError,
     "dropout should be a number in range [0, 1] representing the probability of an element "
     "being zeroed"),
    ("bias type", lambda m: m.nn.LSTM(3, 4, bias=1), TypeError,
     "bias should be of type bool, got: int"),
    ("batch_first type", lambda m: m.nn.RNN(3, 4, batch_first=None), TypeError,
     "batch_first should be of type bool, got: NoneType"),
    ("input_size type", lambda m: m.nn.LSTM(3.0, 4), TypeError,
     "input_size should be of type int, got: float"),
    ("input_size 0", lambda m: m.nn.LSTM(0, 4), ValueError, "input_size must be greater than zero"),
    ("hidden_size 0", lambda m: m.nn.GRU(3, 0), ValueError,
     "hidden_size must be greater than zero"),
    ("num_layers 0", lambda m: m.nn.LSTM(3, 4, num_layers=0), ValueError,
     "num_layers must be greater than zero"),
    ("proj_size negative", lambda m: m.nn.LSTM(3, 4, proj_size=-1), ValueError,
     "proj_size should be a positive integer or zero to disable projections"),
    ("proj_size too big", lambda m: m.nn.LSTM(3, 4, proj_size=4), ValueError,
     "proj_size has to be smaller than hidden_size"),
    ("proj_size GRU", lambda m: m.nn.GRU(3, 4, proj_size=2), ValueError,
     "proj_size argument is only supported for LSTM, not RNN or GRU"),
    ("nonlinearity", lambda m: m.nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError,
     "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'."),
    ("input 4-D", lambda m: m.nn.LSTM(3, 4)(m.zeros(1, 2, 3, 3)), ValueError,
     "LSTM: Expected input to be 2D or 3D, got 4D instead"),
    ("RNN input 1-D", lambda m: m.nn.RNN(3, 4)(m.zeros(3)), ValueError,
     "RNN: Expected input to be 2D or 3D, got 1D tensor instead"),
    ("input_size", lambda m: m.nn.GRU(3, 4)(m.zeros(5, 2, 2)), RuntimeError,
     "input.size(-1) must be equal to input_size. Expected 3, got 2"),
    ("dtype", lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 2, 3, dtype=m.float64)), ValueError,
     "RNN input dtype (torch.float64) does not match weight dtype (torch.float32). Convert "
     "input: input.to(torch.float32), or convert model: model.to(torch.float64)"),
    ("hidden size", lambda m: m.nn.GRU(3, 4)(m.zeros(5, 2, 3), m.zeros(1, 2, 5)), RuntimeError,
     "Expected hidden size (1, 2, 4), got [1, 2, 5]"),
    ("cell size", lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 2, 3), (m.zeros(1, 2, 4),
                                                               m.zeros(1, 3, 4))),
     RuntimeError, "Expected hidden[1] size (1, 2, 4), got [1, 3, 4]"),
    ("hx 2-D batched", lambda m: m.nn.RNN(3, 4)(m.zeros(5, 2, 3), m.zeros(2, 4)), RuntimeError,
     "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
    ("hx 3-D unbatched", lambda m: m.nn.GRU(3, 4)(m.zeros(5, 3), m.zeros(1, 1, 4)),
     RuntimeError, "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
    ("lstm hx dims", lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 2, 3), (m.zeros(1, 2, 4),
                                                                 m.zeros(2, 4))),
     RuntimeError, "For batched 3-D input, hx and cx should also be 3-D but got (3-D, 2-D) "
                   "tensors"),
    ("cell input 3-D", lambda m: m.nn.GRUCell(3, 4)(m.zeros(1, 2, 3)), ValueError,
     "GRUCell: Expected input to be 1D or 2D, got 3D instead"),
    ("cell hx 3-D", lambda m: m.nn.LSTMCell(3, 4)(m.zeros(2, 3), (m.zeros(1, 2, 4),) * 2),
     ValueError, "LSTMCell: Expected hx[0] to be 1D or 2D, got 3D instead"),
    ("cell input size", lambda m: m.nn.LSTMCell(3, 4)(m.zeros(2, 5)), RuntimeError,
     "input has inconsistent input_size: got 5 expected 3"),
    ("cell batch", lambda m: m.nn.RNNCell(3, 4)(m.zeros(2, 3), m.zeros(3, 4)), RuntimeError,
     "Input batch size 2 doesn't match hidden0 batch size 3"),
    ("cell hidden size", lambda m: m.nn.GRUCell(3, 4)(m.zeros(2, 3), m.zeros(2, 5)),
     RuntimeError, "hidden0 has inconsistent hidden_size: got 5, expected 4"),
    ("cell dtype", lambda m: m.nn.GRUCell(3, 4)(m.zeros(2, 3, dtype=m.float64)), RuntimeError,
     "mat1 and mat2 must have the same dtype, but got Double and Float"),
    ("cell nonlinearity", lambda m: m.nn.RNNCell(3, 4, nonlinearity="x")(m.zeros(2, 3)),
     RuntimeError, "Unknown nonlinearity: x"),
]


@pytest.mark.parametrize(("name", "call", "kind", "message"), ERRORS,
                         ids=[case[0] for case in ERRORS])
def test_errors(name: str, call: Callable[[Any], Any], kind: type, message: str) -> None:
    with pytest.raises(kind, match=re.escape(message)):
        call(autodiff)


@pytest.mark.parametrize(("name", "call", "kind", "message"), ERRORS,
                         ids=[case[0] for case in ERRORS])
def test_errors_are_pytorchs(name: str, call: Callable[[Any], Any], kind: type,
                             message: str) -> None:
    torch = pytest.importorskip("torch")
    assert same_error(lambda: call(autodiff), lambda: call(torch)) == message


def test_dropout_warning_for_one_layer() -> None:
    with pytest.warns(UserWarning, match=re.escape(
            "dropout option adds dropout after all but last recurrent layer, so non-zero "
            "dropout expects num_layers greater than 1, but got dropout=0.3 and num_layers=1")):
        nn.GRU(3, 4, dropout=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.GRU(3, 4, dropout=0.3, num_layers=2)
