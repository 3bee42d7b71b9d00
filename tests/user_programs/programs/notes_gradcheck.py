# Adapted from pytorch/pytorch, docs/source/notes/gradcheck.rst ("Gradcheck mechanics"): the
# note's formulas (central differences, the Jacobian column by column and row by row, the
# conjugate Wirtinger derivative, the fast mode's v^T J u, gradgradcheck's F(x, v) = v^T J_f)
# computed by hand and checked against gradcheck and gradgradcheck.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; the note has no program of its own,
# so each formula is a few lines here with a small function of the program's choosing; a wrong
# backward shows that gradcheck catches it; CHECK lines at the end.
import autodiff as torch
from autodiff.autograd import gradcheck, gradgradcheck
from autodiff.autograd.functional import jacobian
from autodiff.autograd.gradcheck import GradcheckError

torch.manual_seed(0)
eps = 1e-6


def f(x):  # R^N -> R^M, N = 3, M = 2
    return torch.stack([x[0] * x[1].sin(), (x[2] ** 2) * x[0].exp()])


x = torch.tensor([0.3, -1.2, 0.7], dtype=torch.float64, requires_grad=True)
N, M = 3, 2

# ---- Slow real input numerical evaluation: central differences, column by column ----
numerical = torch.zeros(M, N, dtype=torch.float64)
with torch.no_grad():
    for j in range(N):
        step = torch.zeros(N, dtype=torch.float64)
        step[j] = eps
        numerical[:, j] = (f(x + step) - f(x - step)) / (2 * eps)

# ---- Slow real input analytical evaluation: v^T J_f for one-hot v, row by row ----
analytical = torch.zeros(M, N, dtype=torch.float64)
y = f(x)
for i in range(M):
    v = torch.zeros(M, dtype=torch.float64)
    v[i] = 1
    (row,) = torch.autograd.grad(y, x, grad_outputs=v, retain_graph=True)
    analytical[i] = row
print(numerical)
print(analytical)
assert torch.allclose(numerical, analytical, atol=1e-5, rtol=1e-3)
assert torch.allclose(analytical, jacobian(f, x.detach()))
assert gradcheck(f, (x,), eps=eps, atol=1e-5, rtol=1e-3)

# ---- Functions in C^N -> R^M: 2 * CW = dy/da + i dy/db ----


def g(z):
    return (z * z.conj()).real + (z ** 2).imag  # |z|^2 + 2ab, real valued


z = torch.tensor([0.5 + 0.25j, -1.0 + 2.0j], dtype=torch.complex128, requires_grad=True)
two_cw = torch.zeros(2, 2, dtype=torch.complex128)
with torch.no_grad():
    for j in range(2):
        real_step = torch.zeros(2, dtype=torch.complex128)
        real_step[j] = eps
        dy_da = (g(z + real_step) - g(z - real_step)) / (2 * eps)
        dy_db = (g(z + real_step * 1j) - g(z - real_step * 1j)) / (2 * eps)
        conj_w_d = 0.5 * (dy_da + dy_db * 1j)
        w_d = 0.5 * (dy_da - dy_db * 1j)
        two_cw[:, j] = conj_w_d + w_d.conj()  # grad_out = 1: exactly 2 * conj_w_d
rows = []
for i in range(2):
    v = torch.zeros(2, dtype=torch.float64)
    v[i] = 1
    (row,) = torch.autograd.grad(g(z), z, grad_outputs=v)
    rows.append(row)
backward_two_cw = torch.stack(rows)
print(backward_two_cw)
assert torch.allclose(two_cw, backward_two_cw, atol=1e-5)
# For |z|^2 + 2ab, dy/da = 2a + 2b and dy/db = 2b + 2a: 2 * CW is (2a + 2b)(1 + i) on the diagonal
a, b = z.detach().real, z.detach().imag
assert torch.allclose(backward_two_cw.diagonal(), (2 * a + 2 * b) * (1 + 1j))
assert gradcheck(g, (z,))

# ---- Functions with outputs in C^M: real and imaginary parts checked apart ----


def h(z):
    return z.exp() * 2j


assert gradcheck(h, (z,))
assert gradcheck(lambda z: h(z).real, (z,)) and gradcheck(lambda z: h(z).imag, (z,))

# ---- Fast mode: v^T J_f u for a random v and a random unit u ----
u = torch.randn(N, dtype=torch.float64)
u = u / u.norm()
v = torch.randn(M, dtype=torch.float64)
with torch.no_grad():
    ju = (f(x + u * eps) - f(x - u * eps)) / (2 * eps)
fast_numerical = v.dot(ju)
(vj,) = torch.autograd.grad(f(x), x, grad_outputs=v)
fast_analytical = vj.dot(u)
print(fast_numerical, fast_analytical)
assert torch.allclose(fast_numerical, fast_analytical, atol=1e-6)
assert torch.allclose(fast_analytical, v @ analytical @ u)
assert gradcheck(f, (x,), fast_mode=True)
assert gradcheck(g, (z,), fast_mode=True)
assert gradcheck(h, (z,), fast_mode=True)

# ---- Forward mode AD computes J_f u ----
assert gradcheck(f, (x,), check_forward_ad=True, check_backward_ad=True)
assert gradcheck(f, (x,), check_forward_ad=True, fast_mode=True)

# ---- A wrong backward is caught, in both modes ----


class WrongSin(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.cos() * 1.01


for fast in (False, True):
    try:
        gradcheck(WrongSin.apply, (x,), fast_mode=fast)
    except GradcheckError as error:
        message = str(error)
        print(message.splitlines()[0])
        assert message.startswith("Jacobian mismatch for output 0 with respect to input 0")
    else:
        raise AssertionError("gradcheck missed a wrong backward")
    assert not gradcheck(WrongSin.apply, (x,), fast_mode=fast, raise_exception=False)

# ---- Gradgrad check: gradcheck of F(x, v) = v^T J_f ----
v = torch.randn(M, dtype=torch.float64, requires_grad=True)


def F(x, v):
    (vj,) = torch.autograd.grad(f(x), x, grad_outputs=v, create_graph=True)
    return vj


assert gradcheck(F, (x, v))
assert gradgradcheck(f, (x,))
assert gradgradcheck(f, (x,), fast_mode=True)
assert gradgradcheck(g, (z,))

print("CHECK jacobian_sum", float(analytical.sum()))
print("CHECK two_cw_sum_real", float(backward_two_cw.sum().real))
print("CHECK two_cw_sum_imag", float(backward_two_cw.sum().imag))
