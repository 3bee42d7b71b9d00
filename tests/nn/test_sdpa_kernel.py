"""nn.attention.sdpa_kernel and torch.backends.cuda's *_sdp switches: which kernel choices
scaled_dot_product_attention accepts and refuses (PyTorch's CPU dispatcher: flash when it fits,
else math, else a refusal with its warnings), and the switches restored after each block."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff.nn.attention import SDPBackend, sdpa_kernel

RNG = np.random.default_rng(3)


def _array(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


Q = _array(2, 3, 4, 8)
CASES: dict[str, tuple[tuple[np.ndarray, ...], dict[str, Any]]] = {
    "plain": ((Q, Q, Q), {}),
    "dropout": ((Q, Q, Q), {"dropout_p": 0.3}),
    "3-d": ((Q[0], Q[0], Q[0]), {}),
    "batch broadcast": ((Q, Q[:1], Q[:1]), {}),
    "heads broadcast": ((Q, Q[:, :1], Q[:, :1]), {}),
    "gqa": ((_array(2, 4, 4, 8), _array(2, 2, 4, 8), _array(2, 2, 4, 8)), {"enable_gqa": True}),
    "4-d mask": ((Q, Q, Q), {"attn_mask": np.ones((2, 1, 4, 4), bool)}),
    "3-d mask": ((Q, Q, Q), {"attn_mask": np.zeros((3, 4, 4), np.float32)}),
    "value head size": ((Q, Q, _array(2, 3, 4, 6)), {}),
    "causal": ((Q, Q, Q), {"is_causal": True}),
    "empty": ((_array(2, 3, 0, 8), _array(2, 3, 0, 8), _array(2, 3, 0, 8)), {}),
}
CHOICES = {
    "default": None,
    "math": SDPBackend.MATH,
    "flash": SDPBackend.FLASH_ATTENTION,
    "efficient": SDPBackend.EFFICIENT_ATTENTION,
    "efficient+cudnn": [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION],
    "none": [],
}
# What PyTorch 2.13 does on the CPU: "ok", or the start of its error and of its warnings
EXPECTED_FLASH_ONLY = {
    "dropout": "Both fused kernels do not support non-zero dropout.",
    "3-d": "All fused kernels requires query, key and value to be 4 dimensional",
    "batch broadcast": "For dense inputs, both fused kernels require query, key and value to "
                       "have the same batch_size",
    "heads broadcast": "For dense input, both fused kernels require query, key and value to "
                       "have the same num_heads",
    "3-d mask": "Please use the following attn mask shapes",
    "value head size": "Flash attention requires q,k,v to have the same last dimension",
}
NO_VIABLE = ("No viable backend for scaled_dot_product_attention was found. This is likely due "
             "to turning off both the math kernel and the fused kernels.")


def _run(module: Any, choice: Any, arrays: tuple[np.ndarray, ...], kwargs: dict[str, Any],
         device: str = "cpu") -> tuple[Any, str, list[str]]:
    tensors = [module.tensor(a, device=device) for a in arrays]
    options = {key: module.tensor(value, device=device) if isinstance(value, np.ndarray)
               else value for key, value in kwargs.items()}
    attention = module.nn.attention
    backend = (None if choice is None else getattr(attention.SDPBackend, choice.name)
               if isinstance(choice, SDPBackend)
               else [getattr(attention.SDPBackend, item.name) for item in choice])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if backend is None:
                out = module.nn.functional.scaled_dot_product_attention(*tensors, **options)
            else:
                with attention.sdpa_kernel(backend):
                    out = module.nn.functional.scaled_dot_product_attention(*tensors, **options)
        except RuntimeError as error:
            return None, str(error), [str(w.message) for w in caught]
    return out, "ok", [str(w.message) for w in caught]


@pytest.mark.parametrize("choice", list(CHOICES))
@pytest.mark.parametrize("case", list(CASES))
def test_kernel_choice(choice: str, case: str, device: str) -> None:
    arrays, kwargs = CASES[case]
    if case == "value head size" and CHOICES[choice] is not SDPBackend.FLASH_ATTENTION:
        pytest.skip("PyTorch's math path takes values of another head size; autodiff's too")
    out, outcome, caught = _run(autodiff, CHOICES[choice], arrays, kwargs, device)
    if case == "empty" or choice in ("default", "math"):
        expected = "ok"
    elif choice == "flash":
        expected = "ok" if case not in EXPECTED_FLASH_ONLY else (
            "No available kernel.  Aborting execution.")
    else:
        expected = NO_VIABLE
    assert outcome == expected
    if outcome.startswith("No available kernel"):
        assert caught[:1] == ["Flash attention kernel not used because:"]
        assert caught[1].startswith(EXPECTED_FLASH_ONLY[case])
    if outcome == "ok" and "dropout_p" not in kwargs:
        reference, _, _ = _run(autodiff, None, arrays, kwargs, device)
        assert autodiff.equal(out, reference)


@pytest.mark.parametrize("choice", list(CHOICES))
@pytest.mark.parametrize("case", list(CASES))
def test_kernel_choice_matches_pytorch(choice: str, case: str) -> None:
    torch = pytest.importorskip("torch")
    arrays, kwargs = CASES[case]
    if case == "value head size" and CHOICES[choice] is not SDPBackend.FLASH_ATTENTION:
        pytest.skip("PyTorch's flash kernel then takes values of another head size")
    ours, our_outcome, our_warnings = _run(autodiff, CHOICES[choice], arrays, kwargs)
    theirs, outcome, their_warnings = _run(torch, CHOICES[choice], arrays, kwargs)
    assert our_outcome == outcome
    assert our_warnings == [w.split(" (Triggered internally")[0] for w in their_warnings]
    if outcome == "ok" and "dropout_p" not in kwargs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_sdpa_kernel_restores_the_switches() -> None:
    cuda = autodiff.backends.cuda
    assert cuda.math_sdp_enabled() and cuda.flash_sdp_enabled()
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.MATH]) as state:
        assert state == {}
        assert cuda.math_sdp_enabled() and not cuda.flash_sdp_enabled()
        assert not cuda.mem_efficient_sdp_enabled() and not cuda.cudnn_sdp_enabled()
    assert all(switch() for switch in (cuda.math_sdp_enabled, cuda.flash_sdp_enabled,
                                       cuda.mem_efficient_sdp_enabled, cuda.cudnn_sdp_enabled))
    with pytest.raises(ValueError, match="inside"), sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        raise ValueError("inside")
    assert cuda.math_sdp_enabled() and not any(
        isinstance(backend, str) for backend in [SDPBackend.MATH])
    with pytest.raises(AssertionError, match=r"^Backend must be an instance of SDPBackend or a "
                                             r"list of SDPBackend instances, got str$"), \
            sdpa_kernel("math"):  # type: ignore[arg-type]
        pass


def test_set_priority_orders_and_restores() -> None:
    from autodiff.ops import attention_kernels

    with sdpa_kernel([SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION],
                     set_priority=True):
        assert attention_kernels.priority_order() == [3, 1, 2, 0, 4]
    assert attention_kernels.priority_order() == [1, 2, 0, 3, 4]


def test_switches_and_the_enum() -> None:
    cuda = autodiff.backends.cuda
    try:
        cuda.enable_math_sdp(False)
        cuda.enable_flash_sdp(False)
        q = autodiff.ones(1, 1, 2, 2)
        with pytest.raises(RuntimeError, match=r"^No viable backend"):
            F.scaled_dot_product_attention(q, q, q)
        with pytest.raises(RuntimeError, match=r"^set_sdp_use_math expects a bool, but got "
                                               r"int$"):
            cuda.enable_math_sdp(1)  # type: ignore[arg-type]
    finally:
        cuda.enable_math_sdp(True)
        cuda.enable_flash_sdp(True)
    assert (str(SDPBackend.MATH), repr(SDPBackend.FLASH_ATTENTION), int(SDPBackend.ERROR)) == (
        "SDPBackend.MATH", "<SDPBackend.FLASH_ATTENTION: 1>", -1)
    assert SDPBackend(2) is SDPBackend.EFFICIENT_ATTENTION and SDPBackend.MATH != 0
