"""nn.utils: parametrize (register, cache, remove, transfer, checks), parametrizations
(weight_norm, spectral_norm, orthogonal), the older weight_norm/spectral_norm hooks,
parameters_to_vector/vector_to_parameters and the gradient-clipping options, against PyTorch
where installed and by their defining properties without it."""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn.utils import parametrizations, parametrize

RNG = np.random.default_rng(5)


def _torch() -> Any:
    return pytest.importorskip("torch")


class Symmetric(nn.Module):
    def forward(self, X: Any) -> Any:
        return X.triu() + X.triu(1).mT


class Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, X: Any) -> Any:
        return X * self.factor

    def right_inverse(self, X: Any) -> Any:
        return X / self.factor


def _linear(lib: Any, N: Any, rows: int = 4, columns: int = 4, seed: int = 0) -> Any:
    layer = N.Linear(columns, rows)
    values = np.random.default_rng(seed).standard_normal((rows, columns))
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(values, dtype=lib.float32))
        layer.bias.zero_()
    return layer


# ----------------------------------------------------------------------------- parametrize
def test_register_parametrization_makes_a_property(device: str) -> None:
    layer = _linear(autodiff, nn).to(device)
    original = layer.weight.detach().cpu().numpy()
    parametrize.register_parametrization(layer, "weight", Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear" and parametrize.is_parametrized(layer)
    assert parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    weight = layer.weight.detach().cpu().numpy()
    np.testing.assert_allclose(weight, np.triu(original) + np.triu(original, 1).T)
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    layer(autodiff.ones(2, 4, device=device)).sum().backward()
    grad = layer.parametrizations.weight.original.grad.cpu().numpy()
    np.testing.assert_allclose(grad, np.triu(np.full((4, 4), 2.0)) + np.triu(np.full((4, 4), 2.0),
                                                                            1))
    assert type(nn.Linear(2, 2)) is nn.Linear  # only this instance's class changed


def test_parametrizations_chain_cache_assign_and_remove() -> None:
    layer = _linear(autodiff, nn)
    base = layer.weight.detach().numpy().copy()
    parametrize.register_parametrization(layer, "weight", Scale(2.0))
    np.testing.assert_allclose(layer.parametrizations.weight.original.detach().numpy(),
                               base / 2, rtol=1e-6)  # right_inverse kept the weight as it was
    parametrize.register_parametrization(layer, "weight", Scale(3.0))
    np.testing.assert_allclose(layer.weight.detach().numpy(), base * 3, rtol=1e-6)
    assert layer.weight is not layer.weight
    with parametrize.cached():
        assert layer.weight is layer.weight
    layer.weight = autodiff.ones(4, 4)  # through both right_inverses
    np.testing.assert_allclose(layer.parametrizations.weight.original.detach().numpy(),
                               np.full((4, 4), 1 / 6), rtol=1e-6)
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)
    assert type(layer) is nn.Linear and not hasattr(layer, "parametrizations")
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.tolist()[0][0] == 1.0
    parametrize.register_parametrization(layer, "weight", Scale(2.0))
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert layer.weight.tolist()[0][0] == 0.5


def test_buffers_can_be_parametrized_and_modules_copied() -> None:
    module = nn.Module()
    module.register_buffer("scale", autodiff.ones(3))
    parametrize.register_parametrization(module, "scale", Scale(2.0))
    assert module.scale.tolist() == [1.0, 1.0, 1.0]
    assert list(module.state_dict()) == ["parametrizations.scale.original"]
    assert [name for name, _ in module.named_buffers()] == ["parametrizations.scale.original"]
    replica = copy.deepcopy(module)
    assert type(replica).__name__ == "ParametrizedModule"
    assert replica.scale.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match=r"Serialization of parametrized modules is only "
                                           r"supported through state_dict\(\)"):
        pickle.dumps(module)


def test_transfer_parametrizations_and_params() -> None:
    source = _linear(autodiff, nn)
    parametrize.register_parametrization(source, "weight", Scale(2.0))
    target = nn.Linear(4, 4)
    parametrize.transfer_parametrizations_and_params(source, target)
    assert target.parametrizations.weight.original is source.parametrizations.weight.original
    np.testing.assert_allclose(target.weight.detach().numpy(),
                               source.weight.detach().numpy())


def test_parametrize_errors_as_pytorch() -> None:
    torch = _torch()

    class Wide(torch.nn.Module):
        def forward(self, X: Any) -> Any:
            return X.repeat(1, 2)

    class Double(torch.nn.Module):
        def forward(self, X: Any) -> Any:
            return X.double()

    def attempts(N: Any, lib: Any, P: Any) -> list[Any]:
        wide = type("Wide", (N.Module,), {"forward": Wide.forward})
        double = type("Double", (N.Module,), {"forward": Double.forward})
        return [
            lambda: P.register_parametrization(N.Linear(2, 2), "weight", wide()),
            lambda: P.register_parametrization(N.Linear(2, 2), "weight", double()),
            lambda: P.register_parametrization(N.Linear(2, 2), "nothing", double()),
            lambda: P.remove_parametrizations(N.Linear(2, 2), "weight"),
            lambda: P.register_parametrization(
                P.register_parametrization(N.Linear(2, 2), "weight", Scale2(N)()), "weight",
                wide()),
        ]

    def Scale2(N: Any) -> Any:
        return type("Scale2", (N.Module,), {"forward": lambda self, X: X * 2})

    ours = attempts(nn, autodiff, parametrize)
    theirs = attempts(torch.nn, torch, torch.nn.utils.parametrize)
    for mine, reference in zip(ours, theirs):
        with pytest.raises(ValueError) as expected:
            reference()
        with pytest.raises(ValueError) as got:
            mine()
        assert str(got.value).replace("autodiff", "torch") == str(expected.value)


# ----------------------------------------------------------------------------- weight_norm
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim: Any) -> None:
    torch = _torch()
    results = []
    for lib, N in ((autodiff, nn), (torch, torch.nn)):
        layer = _linear(lib, N, 4, 3)
        N.utils.parametrizations.weight_norm(layer, dim=dim)
        out = layer(lib.tensor(np.ones((2, 3)), dtype=lib.float32))
        out.pow(2).sum().backward()
        results.append((list(layer.state_dict()), layer.weight.grad_fn.name(),
                        layer.weight.detach().numpy(),
                        [p.grad.numpy() for p in layer.parametrizations.weight.parameters()]))
    (keys, name, weight, grads), (t_keys, t_name, t_weight, t_grads) = results
    assert keys == t_keys and name == t_name
    np.testing.assert_allclose(weight, t_weight, rtol=1e-6)
    for mine, reference in zip(grads, t_grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)


def test_weight_norm_reads_the_older_checkpoints(device: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = nn.utils.weight_norm(_linear(autodiff, nn, 4, 3))
    assert list(old.state_dict()) == ["bias", "weight_g", "weight_v"]
    new = parametrizations.weight_norm(nn.Linear(3, 4))
    new.load_state_dict(old.state_dict())
    np.testing.assert_allclose(new.weight.detach().numpy(), old.weight.detach().numpy(),
                               rtol=1e-6)
    magnitudes = np.linalg.norm(new.weight.detach().numpy(), axis=1)
    np.testing.assert_allclose(magnitudes, new.parametrizations.weight.original0.detach()
                               .numpy().ravel(), rtol=1e-6)


def test_legacy_weight_norm_hook(device: str) -> None:
    with pytest.warns(FutureWarning, match="`torch.nn.utils.weight_norm` is deprecated"):
        layer = nn.utils.weight_norm(_linear(autodiff, nn, 4, 3).to(device), dim=None)
    assert layer.weight_g.shape == ()
    layer(autodiff.ones(2, 3, device=device)).sum().backward()
    assert layer.weight_v.grad.shape == (4, 3) and layer.weight_g.grad.shape == ()
    with (pytest.warns(FutureWarning),
          pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks")):
        nn.utils.weight_norm(layer, dim=None)
    nn.utils.remove_weight_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in Linear"):
        nn.utils.remove_weight_norm(layer)


# ----------------------------------------------------------------------------- spectral_norm
def test_spectral_norm_normalises_the_largest_singular_value(device: str) -> None:
    autodiff.manual_seed(0)
    layer = parametrizations.spectral_norm(_linear(autodiff, nn, 5, 3).to(device),
                                           n_power_iterations=5)
    for _ in range(5):  # power iterations converge in training mode
        layer(autodiff.ones(1, 3, device=device))
    layer.eval()
    weight = layer.weight.detach().cpu().numpy()
    assert np.linalg.svd(weight, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-4)
    before = layer.parametrizations.weight[0]._u.cpu().numpy().copy()
    layer(autodiff.ones(1, 3, device=device))
    np.testing.assert_array_equal(layer.parametrizations.weight[0]._u.cpu().numpy(), before)
    vector = parametrizations.spectral_norm(nn.Linear(3, 1), name="bias")
    assert abs(vector.bias.item()) == pytest.approx(1.0)


def test_spectral_norm_matches_torch_from_the_same_vectors() -> None:
    torch = _torch()
    theirs = torch.nn.utils.parametrizations.spectral_norm(_linear(torch, torch.nn, 5, 3))
    ours = parametrizations.spectral_norm(_linear(autodiff, nn, 5, 3))
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.ones((2, 3), dtype=np.float32)
    out, expected = ours(autodiff.tensor(x)), theirs(torch.tensor(x))  # one power iteration
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.parametrizations.weight.original.grad.numpy(),
                               theirs.parametrizations.weight.original.grad.numpy(), rtol=1e-4,
                               atol=1e-6)
    for call in (lambda P, N: P.spectral_norm(N.Linear(2, 2), n_power_iterations=0),
                 lambda P, N: P.spectral_norm(N.Linear(2, 2), dim=3)):
        with pytest.raises((ValueError, IndexError)) as expected_error:
            call(torch.nn.utils.parametrizations, torch.nn)
        with pytest.raises(type(expected_error.value)) as got:
            call(parametrizations, nn)
        assert str(got.value) == str(expected_error.value)


def test_legacy_spectral_norm_hook_and_its_old_checkpoints() -> None:
    torch = _torch()
    theirs = torch.nn.utils.spectral_norm(_linear(torch, torch.nn, 4, 3))
    ours = nn.utils.spectral_norm(_linear(autodiff, nn, 4, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: autodiff.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_allclose(ours(autodiff.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5)
    # PyTorch's first format: the normalised weight itself, no _v (solved for on load).
    old = {"weight_orig": ours.weight_orig.detach(), "weight": ours.weight.detach(),
           "weight_u": ours.weight_u.detach(), "bias": ours.bias.detach()}
    fresh = nn.utils.spectral_norm(nn.Linear(3, 4))
    fresh.load_state_dict(old)
    fresh.eval()
    fresh(autodiff.tensor(x))
    np.testing.assert_allclose(fresh.weight.detach().numpy(), ours.weight.detach().numpy(),
                               rtol=1e-4)
    nn.utils.remove_spectral_norm(ours)
    assert list(ours.state_dict()) == ["bias", "weight"]


# ----------------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize(("shape", "mapping"), [
    ((4, 4), None), ((3, 5), None), ((5, 3), None), ((4, 4), "cayley"), ((5, 3), "cayley"),
    ((4, 4), "householder"), ((3, 5), "matrix_exp")])
def test_orthogonal_weights_stay_orthogonal_and_train(shape: Any, mapping: Any,
                                                      device: str) -> None:
    autodiff.manual_seed(0)
    layer = parametrizations.orthogonal(nn.Linear(shape[1], shape[0]).to(device), "weight",
                                        mapping)
    optimizer = autodiff.optim.SGD(layer.parameters(), lr=0.1)
    target = autodiff.tensor(RNG.standard_normal((6, shape[0])), dtype=autodiff.float32,
                             device=device)
    x = autodiff.tensor(RNG.standard_normal((6, shape[1])), dtype=autodiff.float32, device=device)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        q = layer.weight.detach().cpu().numpy()
        gram = q @ q.T if shape[0] <= shape[1] else q.T @ q
        np.testing.assert_allclose(gram, np.eye(min(shape)), atol=2e-5)
    assert losses[-1] < losses[0]


def test_orthogonal_assignment_and_errors_as_pytorch() -> None:
    torch = _torch()
    square = np.linalg.qr(RNG.standard_normal((4, 4)))[0]
    tall = np.linalg.qr(RNG.standard_normal((4, 3)))[0]
    for lib, N in ((autodiff, nn), (torch, torch.nn)):
        layer = N.utils.parametrizations.orthogonal(N.Linear(4, 4))
        layer.weight = lib.tensor(square, dtype=lib.float32)
        np.testing.assert_allclose(layer.weight.detach().numpy(), square, atol=1e-5)
        tall_layer = N.utils.parametrizations.orthogonal(N.Linear(3, 4), orthogonal_map=
                                                         "householder",
                                                         use_trivialization=False)
        tall_layer.weight = lib.tensor(tall, dtype=lib.float32)
        np.testing.assert_allclose(tall_layer.weight.detach().numpy(), tall, atol=1e-5)
    for call in (lambda P, N, t: P.orthogonal(N.Linear(4, 4), orthogonal_map="qr"),
                 lambda P, N, t: P.orthogonal(N.Linear(4, 4), name="bias"),
                 lambda P, N, t: P.orthogonal(N.Linear(4, 4), name="nothing")):
        with pytest.raises(ValueError) as expected:
            call(torch.nn.utils.parametrizations, torch.nn, torch)
        with pytest.raises(ValueError) as got:
            call(parametrizations, nn, autodiff)
        assert str(got.value) == str(expected.value)
    frozen = parametrizations.orthogonal(nn.Linear(4, 4), orthogonal_map="cayley",
                                         use_trivialization=False)
    with pytest.raises(NotImplementedError, match="not possible to assign to the matrix "):
        frozen.weight = autodiff.eye(4)


# ----------------------------------------------------------------------------- vectors, clipping
def test_parameters_to_vector_and_back(device: str) -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)).to(device)
    vector = nn.utils.parameters_to_vector(model.parameters())
    assert vector.shape == (11,) and vector.grad_fn.name() == "CatBackward0"
    new = autodiff.arange(11.0, device=device)
    nn.utils.vector_to_parameters(new, model.parameters())
    assert model[0].weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model[1].bias.tolist() == [10.0]
    with pytest.raises(TypeError, match=r"expected torch\.Tensor, but got: int"):
        nn.utils.vector_to_parameters(5, model.parameters())


def test_parameters_on_two_devices_are_refused() -> None:
    params = [nn.Parameter(autodiff.ones(2)), nn.Parameter(autodiff.ones(2, device="strict:1"))]
    with pytest.raises(TypeError, match="Found two parameters on different devices"):
        nn.utils.parameters_to_vector(params)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_clip_grad_norm_foreach_paths_agree(norm_type: float, device: str) -> None:
    grads = [RNG.standard_normal((3, 4)), RNG.standard_normal(5), RNG.standard_normal(())]
    results = []
    for foreach in (None, False, True):
        params = []
        for grad in grads:
            # (zeros(()) for the 0-d one: PyTorch's zeros() without a size is an error)
            param = nn.Parameter(autodiff.zeros(grad.shape, dtype=autodiff.float64,
                                                device=device))
            param.grad = autodiff.tensor(grad, device=device)
            params.append(param)
        total = nn.utils.clip_grad_norm_(params, 0.5, norm_type, foreach=foreach)
        results.append((total.item(), [p.grad.cpu().numpy() for p in params]))
    for total, clipped in results[1:]:
        assert total == pytest.approx(results[0][0], rel=1e-12)
        for mine, reference in zip(clipped, results[0][1]):
            np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_clip_grad_options() -> None:
    param = nn.Parameter(autodiff.ones(3))
    param.grad = autodiff.tensor([1.0, float("inf"), 2.0])
    with pytest.raises(RuntimeError, match=r"The total norm of order 2\.0 for gradients from "):
        nn.utils.clip_grad_norm_([param], 1.0, error_if_nonfinite=True)
    assert param.grad.tolist()[0] == 1.0  # refused before anything changed
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    param.grad = autodiff.tensor([3.0, 4.0, 0.0])
    with pytest.warns(FutureWarning, match="`torch.nn.utils.clip_grad_norm` is now deprecated"):
        total = nn.utils.clip_grad_norm([param], 1.0)
    assert total.item() == pytest.approx(5.0)
    param.grad = autodiff.tensor([3.0, 4.0, 0.0])
    norm = nn.utils.get_total_norm([param.grad], foreach=True)
    nn.utils.clip_grads_with_norm_([param], 2.5, norm, foreach=True)
    np.testing.assert_allclose(param.grad.numpy(), [1.5, 2.0, 0.0], rtol=1e-6)
    assert nn.utils.get_total_norm([]).item() == 0.0
