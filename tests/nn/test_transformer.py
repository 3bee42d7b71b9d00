"""The Transformer family against PyTorch: layers (post- and pre-norm, relu/gelu/callable
activations, masks, batch_first), stacks, the whole Transformer, reprs, parameter names,
initialisation, warnings, errors, the causal-mask detection and the nested-tensor fast path's
zeros at padded positions."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F

F64 = autodiff.float64


def _np(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _load(ours: nn.Module, theirs: Any) -> None:
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})


def _check_grads(ours: nn.Module, theirs: Any, atol: float = 1e-10) -> None:
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(mine.grad), _np(reference.grad), atol=atol, err_msg=name)


LAYER_OPTIONS = [{}, {"norm_first": True, "activation": "gelu", "batch_first": True},
                 {"activation": "tanh-callable"}, {"bias": False, "layer_norm_eps": 1e-3}]


def _activation(options: dict[str, Any], library: Any) -> dict[str, Any]:
    if options.get("activation") == "tanh-callable":
        return dict(options, activation=library.tanh)
    return options


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=lambda o: "-".join(o) or "default")
@pytest.mark.parametrize("kind", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_layers_match_pytorch(kind: str, options: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(8, 2, 16, dropout=0.0, dtype=torch.float64,
                                     **_activation(options, torch))
    ours = getattr(nn, kind)(8, 2, 16, dropout=0.0, dtype=F64, **_activation(options, autodiff))
    assert repr(ours) == repr(theirs)
    _load(ours, theirs)
    rng = np.random.default_rng(0)
    batch_first = options.get("batch_first", False)
    x = rng.standard_normal((3, 4, 8) if batch_first else (4, 3, 8))
    memory = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    padding = np.array([[False] * 4 + [True], [False] * 5, [False] * 3 + [True] * 2])
    t_x, a_x = torch.tensor(x, requires_grad=True), autodiff.tensor(x, requires_grad=True)
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    a_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=F64)
    if kind == "TransformerEncoderLayer":
        t_out = theirs(t_x, src_mask=t_mask, is_causal=True)
        a_out = ours(a_x, src_mask=a_mask, is_causal=True)
    else:
        t_out = theirs(t_x, torch.tensor(memory), tgt_mask=t_mask,
                       memory_key_padding_mask=torch.tensor(padding))
        a_out = ours(a_x, autodiff.tensor(memory), tgt_mask=a_mask,
                     memory_key_padding_mask=autodiff.tensor(padding))
    np.testing.assert_allclose(_np(a_out), _np(t_out), atol=1e-12)
    assert a_out.grad_fn.name() == t_out.grad_fn.name()
    (t_out * t_out).sum().backward()
    (a_out * a_out).sum().backward()
    _check_grads(ours, theirs)
    np.testing.assert_allclose(_np(a_x.grad), _np(t_x.grad), atol=1e-10)


def test_transformer_matches_pytorch_and_warns_as_it_does() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        theirs = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, dtype=torch.float64)
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, dtype=F64)
    assert [str(w.message) for w in ours_warned] == [str(w.message) for w in theirs_warned]
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    _load(ours, theirs)
    rng = np.random.default_rng(1)
    src, tgt = rng.standard_normal((5, 3, 8)), rng.standard_normal((4, 3, 8))
    src_padding = np.array([[False] * 5, [False] * 4 + [True], [False] * 3 + [True] * 2])
    t_out = theirs(torch.tensor(src), torch.tensor(tgt),
                   tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4),
                   src_key_padding_mask=torch.tensor(src_padding),
                   memory_key_padding_mask=torch.tensor(src_padding))
    a_out = ours(autodiff.tensor(src), autodiff.tensor(tgt),
                 tgt_mask=nn.Transformer.generate_square_subsequent_mask(4),
                 src_key_padding_mask=autodiff.tensor(src_padding),
                 memory_key_padding_mask=autodiff.tensor(src_padding))
    np.testing.assert_allclose(_np(a_out), _np(t_out), atol=1e-12)
    t_out.sum().backward()
    a_out.sum().backward()
    _check_grads(ours, theirs)


def test_encoder_nested_fast_path_zeros_padded_positions() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                               dtype=torch.float64)
    theirs = torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(
        8, dtype=torch.float64))
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                            batch_first=True, dtype=F64), 2,
                                 norm=nn.LayerNorm(8, dtype=F64))
    _load(ours, theirs)
    theirs.eval()
    ours.eval()
    x = np.random.default_rng(0).standard_normal((3, 5, 8))
    for padding in ([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]],
                    [[False] * 5, [True] + [False] * 4, [False] * 4 + [True]]):  # not aligned
        mask = np.array(padding)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch: nested tensors are a prototype
            expected = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(mask))
        with autodiff.no_grad():
            got = ours(autodiff.tensor(x), src_key_padding_mask=autodiff.tensor(mask))
        np.testing.assert_allclose(_np(got), _np(expected), atol=1e-12)
    # With gradients, PyTorch takes the ordinary path: padded positions have values.
    got = ours(autodiff.tensor(x), src_key_padding_mask=autodiff.tensor(
        np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 5])))
    assert np.abs(_np(got)[1, 3:]).max() > 0.1


def test_encoder_warnings_name_the_reason() -> None:
    cases = [
        (nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True),
         "encoder_layer.norm_first was True"),
        (nn.TransformerEncoderLayer(8, 2, 16),
         "encoder_layer.self_attn.batch_first was not True(use batch_first for better inference "
         "performance)"),
        (nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, bias=False),
         "encoder_layer.self_attn was passed bias=False"),
        (nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, activation=autodiff.tanh),
         "encoder_layer.activation_relu_or_gelu was not True"),
        (nn.TransformerEncoderLayer(8, 1, 16, batch_first=True),
         "encoder_layer.self_attn.num_heads is odd"),
    ]
    for layer, reason in cases:
        with pytest.warns(UserWarning, match=re.escape(
                f"enable_nested_tensor is True, but self.use_nested_tensor is False because "
                f"{reason}")):
            encoder = nn.TransformerEncoder(layer, 2)
        assert encoder.use_nested_tensor is False and encoder.enable_nested_tensor is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2,
                              enable_nested_tensor=False)


def test_encoder_warnings_are_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    for library in (torch, autodiff):
        layer = library.nn.TransformerEncoderLayer(8, 2, 16, norm_first=True)
        with pytest.warns(UserWarning, match=re.escape(
                "enable_nested_tensor is True, but self.use_nested_tensor is False because "
                "encoder_layer.norm_first was True")):
            library.nn.TransformerEncoder(layer, 1)


def test_square_subsequent_mask_and_causal_detection(device: str) -> None:
    mask = nn.Transformer.generate_square_subsequent_mask(3, device=device, dtype=F64)
    assert mask.dtype is F64 and mask.device == autodiff.device(device)
    np.testing.assert_array_equal(_np(mask), [[0, -np.inf, -np.inf], [0, 0, -np.inf],
                                              [0, 0, 0]])
    from autodiff.nn.modules.transformer import _detect_is_causal_mask

    assert _detect_is_causal_mask(mask.cpu())
    assert not _detect_is_causal_mask(mask.cpu(), is_causal=False)
    assert not _detect_is_causal_mask(autodiff.zeros(3, 3))
    assert _detect_is_causal_mask(None, True)


def test_stacks_clone_the_layer_and_run_on_every_device(device: str) -> None:
    autodiff.manual_seed(0)
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    decoder = nn.TransformerDecoder(layer, 3, norm=nn.LayerNorm(8)).to(device)
    weights = [layer.self_attn.in_proj_weight for layer in decoder.layers]
    assert len({id(w) for w in weights}) == 3  # deep copies, not one shared layer
    for w in weights[1:]:
        np.testing.assert_array_equal(_np(w), _np(weights[0]))
    tgt = autodiff.randn(2, 4, 8, device=device)
    memory = autodiff.randn(2, 5, 8, device=device)
    out = decoder(tgt, memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(
        4, device=device))
    out.sum().backward()
    assert out.device == autodiff.device(device)
    assert decoder.layers[2].linear2.weight.grad is not None


def test_transformer_init_and_state_dict_round_trip(device: str) -> None:
    autodiff.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16, batch_first=True).to(device)
    weight = model.encoder.layers[0].linear1.weight
    bound = np.sqrt(6 / (8 + 16))
    assert np.abs(_np(weight)).max() <= bound and np.abs(_np(weight)).max() > bound * 0.8
    copy = nn.Transformer(8, 2, 1, 1, 16, batch_first=True).to(device)
    copy.load_state_dict(model.state_dict())
    model.eval()
    copy.eval()
    src, tgt = autodiff.randn(2, 5, 8, device=device), autodiff.randn(2, 3, 8, device=device)
    np.testing.assert_array_equal(_np(model(src, tgt)), _np(copy(src, tgt)))


def test_activations() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation="gelu")
    assert layer.activation is F.gelu and layer.activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(8, 2, 16).activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU()).activation_relu_or_gelu == 2
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerDecoderLayer(8, 2, 16, activation="tanh")


def test_transformer_errors() -> None:
    with pytest.warns(UserWarning, match="enable_nested_tensor is True"):
        model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(autodiff.zeros(5, 2, 8), autodiff.zeros(4, 3, 8))
    with pytest.raises(RuntimeError,
                       match="the feature number of src and tgt must be equal to d_model"):
        model(autodiff.zeros(5, 2, 8), autodiff.zeros(4, 2, 6))
