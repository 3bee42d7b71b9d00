"""Fused kernels for hot composite ops, each declared once, here, and picked up by every backend.

A kernel is Python over an array namespace `xp`, declared in `Kernels` (a base class of
`Backend`) with a decorator that registers it:

- `@kernel`: elementwise work, written `function(xp, *arrays, **static)`. On a backend it is a
  method without the xp (`backend.sigmoid(x)`). NumPy and array-api-strict run the Python as it
  is; CuPy compiles it with `cupy.fuse` into one launch (one per combination of the `static`
  keyword options, which are read at trace time). So only array arithmetic, ufuncs
  (`xp.exp`, `xp.maximum(x, 0.0)`, ...), in-place operators and Python-level branches on
  arguments known before the call (None or not, static flags) appear in them. A reduction may
  end a kernel (`log_softmax_sum`: the elementwise work in front of it is fused into it).
- `@composite`: a kernel made of other kernels and primitives, written `function(backend, ...)`
  and run the same on every backend; on CuPy the kernels it calls are the compiled ones.
  Scalar-only arithmetic lives here, on the host (`adam_update`): inside a compiled kernel an
  expression of scalars alone may be given the smallest type that holds them.

Adding a kernel is one decorated function in `Kernels`: `Backend.__init__` binds every entry of
`KERNELS` (unless a backend class defines a method of that name itself), the CuPy backend
compiles every `@kernel` entry, and mypy reads each method's signature off its declaration.

In-place operators on temporaries the kernel made itself (`t *= -1`) are part of the array API
and save NumPy a fresh allocation (and its page faults) per step.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

Array = Any
P = ParamSpec("P")
R = TypeVar("R")


class Kernel(Generic[P, R]):
    """An elementwise kernel: `function(xp, *arrays, **static)`. Called on the class
    (`Kernels.sigmoid(xp, x)`) it runs over any namespace; on a backend, over the backend's."""

    fused = True

    def __init__(self, function: Callable[Concatenate[Any, P], R],
                 static: tuple[str, ...] = ()) -> None:
        self.function = function
        self.name = function.__name__
        self.static = static
        self.__doc__ = function.__doc__
        _register(self)

    def __call__(self, xp: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(xp, *args, **kwargs)

    @overload
    def __get__(self, instance: None, owner: type) -> Kernel[P, R]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> Callable[P, R]: ...
    def __get__(self, instance: Any, owner: type) -> Any:
        # Backend.__init__ binds an instance attribute that shadows this; it serves the class.
        return self if instance is None else self.bind(instance)

    def bind(self, backend: Any) -> Callable[P, R]:
        """The kernel over `backend.xp`, run as Python: the function bound to the namespace as
        a method's self (CPython calls a bound method without a C frame of its own, unlike a
        functools.partial)."""
        return types.MethodType(self.function, backend.xp)


class Composite(Generic[P, R]):
    """A kernel made of kernels and primitives: `function(backend, ...)`, never compiled as a
    whole (the kernels it calls are)."""

    fused = False

    def __init__(self, function: Callable[Concatenate[Any, P], R]) -> None:
        self.function = function
        self.name = function.__name__
        self.static: tuple[str, ...] = ()
        self.__doc__ = function.__doc__
        _register(self)

    @overload
    def __get__(self, instance: None, owner: type) -> Composite[P, R]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> Callable[P, R]: ...
    def __get__(self, instance: Any, owner: type) -> Any:
        return self if instance is None else self.bind(instance)

    def bind(self, backend: Any) -> Callable[P, R]:
        return types.MethodType(self.function, backend)


# Every kernel, by name, in declaration order.
KERNELS: dict[str, Kernel[..., Any] | Composite[..., Any]] = {}


def _register(declared: Kernel[..., Any] | Composite[..., Any]) -> None:
    if declared.name in KERNELS:
        raise ValueError(f"kernel '{declared.name}' is declared twice")
    KERNELS[declared.name] = declared


@overload
def kernel(function: Callable[Concatenate[Any, P], R], /) -> Kernel[P, R]: ...
@overload
def kernel(*, static: tuple[str, ...]) -> Callable[[Callable[Concatenate[Any, P], R]],
                                                   Kernel[P, R]]: ...
def kernel(function: Any = None, /, *, static: tuple[str, ...] = ()) -> Any:
    """Declare an elementwise kernel (see the module docstring); `static` names the keyword
    options a compiler specialises on."""
    if function is None:
        return lambda inner: Kernel(inner, static)
    return Kernel(function, static)


def composite(function: Callable[Concatenate[Any, P], R]) -> Composite[P, R]:
    """Declare a kernel made of other kernels (see the module docstring)."""
    return Composite(function)


class Kernels:
    """The fused kernels, as methods of every `Backend` (this is one of its base classes)."""

    xp: Any

    # ------------------------------------------------------------------------- activations
    @kernel
    def sigmoid(xp: Any, x: Array) -> Array:
        """1 / (1 + exp(-x)): accurate relative to the result even far in the left tail
        (sigmoid(-20) = 2.06e-9, so log(sigmoid(x)) stays finite). exp(-x) overflows to inf
        for very negative x, which gives the correct 0; the NumPy backend silences that
        warning."""
        out = xp.exp(-x)
        out += 1
        return 1.0 / out

    @kernel
    def softplus(xp: Any, x: Array) -> Array:
        """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
        return softplus_values(xp, x)

    @kernel
    def erf(xp: Any, x: Array) -> Array:
        """The error function to double precision (about 1e-15 absolute), from two expansions
        that never cancel: below |x| = 2.5 the series erf(a) = 2/sqrt(pi) exp(-a^2) sum 2^n
        a^(2n+1) / (2n+1)!!, above it the continued fraction of erfc(a) = exp(-a^2) / sqrt(pi)
        / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...)))). Both are evaluated everywhere on
        clipped inputs (no overflow, no warnings) and the right one is picked per element.
        (The array API has no erf.)"""
        split = 2.5
        magnitude = xp.abs(x)
        # Series on [0, split]: every term positive, 35 terms reach double precision at split.
        small = xp.minimum(magnitude, split)
        small_sq = small * small
        twice_sq = small_sq * 2
        term = small * 1  # a fresh array: updated in place below
        total = small * 1
        for n in range(35):
            term *= twice_sq
            term /= 2 * n + 3
            total += term
        series = xp.exp(-small_sq)
        series *= total
        series *= _TWO_OVER_SQRT_PI
        # Continued fraction on [split, inf), evaluated from the tail; 25 levels suffice there.
        large = xp.maximum(magnitude, split)
        fraction = large * 1
        for k in range(25, 0, -1):
            fraction = large + (k / 2) / fraction
        complement = xp.exp(-(large * large))
        complement /= fraction
        complement *= _ONE_OVER_SQRT_PI
        out = xp.where(magnitude < split, series, 1 - complement)
        return xp.copysign(out, x)

    # ------------------------------------------------------------------------- BCE with logits
    @kernel
    def bce_with_logits(xp: Any, z: Array, y: Array, weight: Array | None,
                        pos_weight: Array | None) -> Array:
        """Elementwise binary cross-entropy on logits z against targets y (unreduced)."""
        # loss = (1 - y) * z + l * softplus(-z),  l = 1 + (pos_weight - 1) * y
        #      = softplus(z) - z * y                      when there is no pos_weight.
        if pos_weight is None:
            out = softplus_values(xp, z)
            out -= z * y
        else:
            log_weight = (pos_weight - 1) * y
            log_weight += 1
            out = softplus_values(xp, -z)
            out *= log_weight
            out += (1 - y) * z
        if weight is not None:
            out = out * weight
        return out

    @kernel
    def bce_with_logits_backward(xp: Any, grad: Array, z: Array, y: Array,
                                 weight: Array | None, pos_weight: Array | None) -> Array:
        """d loss / d z times grad, for the unreduced loss (grad may be a 0-d scale)."""
        out = sigmoid_absolute(xp, z)
        if pos_weight is None:
            out -= y  # sigmoid(z) - y
        else:
            # l * sigmoid(z) - pos_weight * y,  l = 1 + (pos_weight - 1) * y
            log_weight = (pos_weight - 1) * y
            log_weight += 1
            out *= log_weight
            out -= pos_weight * y
        if weight is not None:
            out = out * weight
        # grad is 0-d (a reduced loss, its 1/n folded in by the caller) or of z's shape.
        out *= grad
        return out

    # ------------------------------------------------------------------------- log-softmax
    @composite
    def log_softmax(backend: Any, x: Array, axis: int) -> Array:
        """x - logsumexp(x) along axis, shifted by the max for stability:
        (x - peak) - log(sum(exp(x - peak))).

        A backend that compiles kernels runs it as three launches (the max, then exp-and-sum
        fused into one reduction, then the elementwise rest, which recomputes x - peak instead
        of storing it); the others in one pass of Python that keeps x - peak."""
        xp = backend.xp
        if backend.compiles_kernels and x.ndim and x.size:
            axis %= x.ndim
            peak = xp.max(x, axis=axis, keepdims=True)
            total = xp.expand_dims(backend.log_softmax_sum(x, peak, axis=axis), axis=axis)
            return backend.log_softmax_finish(x, peak, total)
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        total = xp.sum(xp.exp(shifted), axis=axis, keepdims=True)
        shifted -= xp.log(total)
        return shifted

    @kernel(static=("axis",))
    def log_softmax_sum(xp: Any, x: Array, peak: Array, *, axis: int) -> Array:
        """sum(exp(x - peak)) along axis (the axis dropped); peak is the max with keepdims."""
        return xp.sum(xp.exp(x - peak), axis=axis)

    @kernel
    def log_softmax_finish(xp: Any, x: Array, peak: Array, total: Array) -> Array:
        """(x - peak) - log(total); total is log_softmax_sum's result with the axis kept."""
        out = x - peak
        out -= xp.log(total)
        return out

    @composite
    def log_softmax_backward(backend: Any, grad: Array, output: Array, axis: int) -> Array:
        """grad - softmax * sum(grad) along axis."""
        grad_sum = backend.xp.sum(grad, axis=axis, keepdims=True)
        return backend.log_softmax_backward_finish(grad, output, grad_sum)

    @kernel
    def log_softmax_backward_finish(xp: Any, grad: Array, output: Array,
                                    grad_sum: Array) -> Array:
        """The elementwise part of log_softmax_backward: grad - exp(output) * grad_sum."""
        out = xp.exp(output)
        out *= -grad_sum  # negate the small sum, then add grad in place: no third array
        out += grad
        return out

    # ------------------------------------------------------------------------- CTC
    @kernel
    def ctc_step(xp: Any, stay: Array, shift1: Array, shift2: Array,
                 emission: Array) -> Array:
        """log(exp(stay) + exp(shift1) + exp(shift2)) + emission: one time step of CTC's
        forward (alpha) or backward (beta) recursion in log space over the label lattice;
        -inf where all three terms are."""
        peak = xp.maximum(xp.maximum(stay, shift1), shift2)
        empty = xp.isinf(peak)  # -inf: no path reaches this position
        base = xp.where(empty, 0.0, peak)
        total = xp.exp(stay - base)
        total += xp.exp(shift1 - base)
        total += xp.exp(shift2 - base)
        out = xp.log(xp.where(empty, 1.0, total))
        out += base
        out += emission
        return xp.where(empty, peak, out)

    # ------------------------------------------------------------------------- ASGD
    @composite
    def asgd_update(backend: Any, param: Array, grad: Array, ax: Array, eta: Array, mu: Array,
                    *, step: float, lr: float, lambd: float, alpha: float, t0: float,
                    weight_decay: float, maximize: bool, scalar_dtype: str) -> None:
        """One ASGD step (PyTorch's single-tensor ASGD), in place on param, ax and the 0-d
        eta and mu: decay and step with eta, average into ax with mu (a copy while mu is 1),
        then eta = lr / (1 + lambd lr step)^alpha and mu = 1 / max(1, step - t0), each number
        rounded to `scalar_dtype` (the default dtype: torch.as_tensor's) before it is stored.
        The branches read eta, mu and step here, so a replay of a compiled step takes them
        as eager would."""
        eta_value = float(backend.item(eta))
        mu_value = float(backend.item(mu))
        if maximize:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        param *= 1 - lambd * eta_value
        param -= eta_value * grad
        if mu_value != 1:
            ax += (param - ax) * mu_value
        else:
            backend.setitem(ax, (...,), param)
        new_eta = lr / ((1 + lambd * lr * step) ** alpha)
        backend.setitem(eta, (), backend.asarray(new_eta, dtype=scalar_dtype))
        backend.setitem(mu, (), backend.asarray(1 / max(1, step - t0), dtype=scalar_dtype))

    # ------------------------------------------------------------------------- Adam family
    # Adam, NAdam and RAdam share their first half (weight decay and the two moments,
    # `decay_and_moments`); each ends in its own update of param. The composites work out the
    # scalars on the host (`*_scalars`); each scalar then meets an array directly in the kernel,
    # so it takes the arrays' precision, as in PyTorch.
    @composite
    def adam_update(backend: Any, param: Array, grad: Array, exp_avg: Array,
                    exp_avg_sq: Array, *, lr: float, beta1: float, beta2: float, eps: float,
                    weight_decay: float, step: float, decoupled: bool) -> None:
        """One Adam step (AdamW's when `decoupled`), in place on param, exp_avg and exp_avg_sq.

        PyTorch's single-tensor Adam, operation for operation: `step` is the count after this
        step (1 on the first). The scalars are worked out here on the host; `adam_step` is the
        kernel."""
        scalars, flags = adam_scalars(lr=lr, beta1=beta1, beta2=beta2,
                                      weight_decay=weight_decay, step=step, decoupled=decoupled)
        backend.adam_step(param, grad, exp_avg, exp_avg_sq, eps, *scalars, **flags)

    @kernel(static=("l2", "decay", "lerp_from_start"))
    def adam_step(xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array,
                  eps: Any, lerp_weight: Any, lerp_complement: Any, beta2: Any,
                  one_minus_beta2: Any, step_size: Any, bias_correction2_sqrt: Any,
                  weight_decay: Any, decay_factor: Any, *, l2: bool, decay: bool,
                  lerp_from_start: bool) -> None:
        """The elementwise Adam update, in place (no return value: one kernel, no output
        array)."""
        decay_and_moments(param, grad, exp_avg, exp_avg_sq, lerp_weight, lerp_complement, beta2,
                          one_minus_beta2, weight_decay, decay_factor, l2=l2, decay=decay,
                          lerp_from_start=lerp_from_start)
        # denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt
        denom += eps
        # param.addcdiv_(exp_avg, denom, value=-step_size): p + (-s m) / d, i.e. p - (s m) / d
        param -= step_size * exp_avg / denom

    @composite
    def nadam_update(backend: Any, param: Array, grad: Array, exp_avg: Array,
                     exp_avg_sq: Array, *, lr: float, beta1: float, beta2: float, eps: float,
                     weight_decay: float, step: float, decoupled: bool, mu: float,
                     mu_next: float, mu_product: float) -> None:
        """One NAdam step, in place on param, exp_avg and exp_avg_sq (PyTorch's single-tensor
        NAdam; `mu_product` already includes this step's `mu`)."""
        scalars, flags = nadam_scalars(lr=lr, beta1=beta1, beta2=beta2,
                                       weight_decay=weight_decay, step=step,
                                       decoupled=decoupled, mu=mu, mu_next=mu_next,
                                       mu_product=mu_product)
        backend.nadam_step(param, grad, exp_avg, exp_avg_sq, eps, *scalars, **flags)

    @kernel(static=("l2", "decay", "lerp_from_start"))
    def nadam_step(xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array,
                   eps: Any, lerp_weight: Any, lerp_complement: Any, beta2: Any,
                   one_minus_beta2: Any, weight_decay: Any, decay_factor: Any,
                   bias_correction2: Any, grad_value: Any, exp_avg_value: Any, *, l2: bool,
                   decay: bool, lerp_from_start: bool) -> None:
        """The elementwise NAdam update (Dozat, 2016), in place: the Nesterov step mixes this
        step's gradient and the next step's momentum, each with its own coefficient."""
        grad = decay_and_moments(param, grad, exp_avg, exp_avg_sq, lerp_weight,
                                 lerp_complement, beta2, one_minus_beta2, weight_decay,
                                 decay_factor, l2=l2, decay=decay,
                                 lerp_from_start=lerp_from_start)
        # denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps); out of place because a
        # differentiable step runs this on Tensors, and sqrt saves its output.
        denom = xp.sqrt(exp_avg_sq / bias_correction2) + eps
        param += grad_value * grad / denom  # param.addcdiv_(grad, denom, value=grad_value)
        param += exp_avg_value * exp_avg / denom  # param.addcdiv_(exp_avg, denom, value=...)

    @composite
    def radam_update(backend: Any, param: Array, grad: Array, exp_avg: Array,
                     exp_avg_sq: Array, *, lr: float, beta1: float, beta2: float, eps: float,
                     weight_decay: float, step: float, decoupled: bool) -> None:
        """One RAdam step, in place on param, exp_avg and exp_avg_sq (PyTorch's single-tensor
        RAdam)."""
        scalars, flags = radam_scalars(lr=lr, beta1=beta1, beta2=beta2,
                                       weight_decay=weight_decay, step=step,
                                       decoupled=decoupled)
        backend.radam_step(param, grad, exp_avg, exp_avg_sq, eps, *scalars, **flags)

    @kernel(static=("l2", "decay", "lerp_from_start", "rectify"))
    def radam_step(xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array,
                   eps: Any, lerp_weight: Any, lerp_complement: Any, beta2: Any,
                   one_minus_beta2: Any, weight_decay: Any, decay_factor: Any,
                   bias_correction1: Any, lr: Any, bias_correction2_sqrt: Any, rect: Any, *,
                   l2: bool, decay: bool, lerp_from_start: bool, rectify: bool) -> None:
        """The elementwise RAdam update (Liu et al., 2020), in place: Adam's step scaled by the
        rectification term, or plain bias-corrected momentum before the variance of the
        adaptive rate is tractable."""
        decay_and_moments(param, grad, exp_avg, exp_avg_sq, lerp_weight, lerp_complement, beta2,
                          one_minus_beta2, weight_decay, decay_factor, l2=l2, decay=decay,
                          lerp_from_start=lerp_from_start)
        update = exp_avg / bias_correction1
        update *= lr
        if rectify:
            # adaptive lr = bias_correction2 ** 0.5 / (exp_avg_sq.sqrt() + eps)
            adaptive = xp.sqrt(exp_avg_sq) + eps
            update *= bias_correction2_sqrt / adaptive
            update *= rect
        param -= update  # param.add_(update, alpha=-1)


def decay_and_moments(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array,
                      lerp_weight: Any, lerp_complement: Any, beta2: Any, one_minus_beta2: Any,
                      weight_decay: Any, decay_factor: Any, *, l2: bool, decay: bool,
                      lerp_from_start: bool) -> Array:
    """Weight decay (decoupled: param.mul_(1 - lr * wd); L2: grad + wd * param), then
    exp_avg.lerp_(grad, 1 - beta1) and exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2),
    in place. Returns the gradient the update uses. Operators only: kernels trace it."""
    if decay:
        param *= decay_factor
    if l2:
        grad = grad + weight_decay * param  # grad.add(param, alpha=weight_decay)
    if lerp_from_start:
        exp_avg += lerp_weight * (grad - exp_avg)
    else:  # grad - (grad - exp_avg) * (1 - weight), rounded the same way
        exp_avg -= grad
        exp_avg *= lerp_complement
        exp_avg += grad
    exp_avg_sq *= beta2
    exp_avg_sq += one_minus_beta2 * grad * grad
    return grad


def softplus_values(xp: Any, x: Array) -> Array:
    """The softplus kernel's body, which other kernels call directly (a kernel read off the
    class goes through its descriptor and its __call__: two frames more)."""
    out = xp.abs(x)
    out *= -1
    out = xp.exp(out)
    out = xp.log1p(out)
    out += xp.maximum(x, 0.0)
    return out


def sigmoid_absolute(xp: Any, x: Array) -> Array:
    """0.5 * tanh(x / 2) + 0.5: never overflows and is twice as fast on NumPy, but accurate only
    in absolute terms (about 1e-8 near 0 in the left tail). Right for gradients such as
    sigmoid(z) - y, not for sigmoid as an output."""
    out = xp.tanh(x * 0.5)
    out *= 0.5
    out += 0.5
    return out


def moment_scalars(*, lr: float, beta1: float, beta2: float, weight_decay: float,
                   decoupled: bool) -> tuple[tuple[float, ...], dict[str, bool]]:
    """decay_and_moments' scalars, which open every Adam-family kernel's arguments after eps:
    (lerp weight, its complement, beta2, 1 - beta2), and its flags.

    Every scalar-only expression is evaluated here, in double precision: inside a compiled
    kernel an expression of scalars alone may be given the smallest type that holds them.
    """
    lerp_weight = 1 - beta1
    flags = {
        "l2": weight_decay != 0 and not decoupled,
        "decay": weight_decay != 0 and decoupled,
        # PyTorch's lerp computes from the nearer end: start + w (end - start) for |w| < 0.5.
        "lerp_from_start": abs(lerp_weight) < 0.5,
    }
    return (lerp_weight, 1 - lerp_weight, beta2, 1 - beta2), flags


def adam_scalars(*, lr: float, beta1: float, beta2: float, weight_decay: float, step: float,
                 decoupled: bool) -> tuple[tuple[float, ...], dict[str, bool]]:
    """adam_step's scalar arguments (after eps) and its flags, which pick the kernel variant."""
    moments, flags = moment_scalars(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay,
                                    decoupled=decoupled)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    return (*moments, lr / bias_correction1, math.sqrt(bias_correction2), weight_decay,
            1 - lr * weight_decay), flags


def nadam_scalars(*, lr: float, beta1: float, beta2: float, weight_decay: float, step: float,
                  decoupled: bool, mu: float, mu_next: float, mu_product: float,
                  ) -> tuple[tuple[float, ...], dict[str, bool]]:
    """nadam_step's scalars (after eps) and flags. `mu_product` is the product of the momentum
    coefficients up to this step's `mu` (the state, already multiplied)."""
    moments, flags = moment_scalars(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay,
                                    decoupled=decoupled)
    mu_product_next = mu_product * mu_next
    grad_value = -lr * (1.0 - mu) / (1.0 - mu_product)
    exp_avg_value = (-lr * mu_next) / (1.0 - mu_product_next)
    return (*moments, weight_decay, 1 - lr * weight_decay, 1 - beta2 ** step, grad_value,
            exp_avg_value), flags


def radam_scalars(*, lr: float, beta1: float, beta2: float, weight_decay: float, step: float,
                  decoupled: bool) -> tuple[tuple[float, ...], dict[str, bool]]:
    """radam_step's scalars (after eps) and flags; `rectify` is False while the variance of
    the adaptive rate is intractable (rho_t <= 5: a plain momentum step)."""
    moments, flags = moment_scalars(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay,
                                    decoupled=decoupled)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    rectify = rho_t > 5.0
    rect = (((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            ** 0.5 if rectify else 1.0)
    return ((*moments, weight_decay, 1 - lr * weight_decay, bias_correction1, lr,
             bias_correction2 ** 0.5, rect), {**flags, "rectify": rectify})


_TWO_OVER_SQRT_PI = 1.1283791670955126
_ONE_OVER_SQRT_PI = 0.5641895835477563
