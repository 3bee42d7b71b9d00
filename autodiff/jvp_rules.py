"""PyTorch's generic forward-mode rules, which most ops declare as their `jvp`
(derivatives.yaml's `result: auto_element_wise` and `result: auto_linear`), and the one for ops
whose tangent is best had from their backward.

`rule_facts` marks what a rule does not need: saved tensors built for an op that is not
recorded (rules that read `ctx._dual_call` only), or replacing for complex tensors.

Complex tensors: a rule marked `complex_safe` (the linear ones: the op itself on the tangents;
holomorphic ones written as f'(z) t) is right for them as it is. Any other rule is written for
real tensors; with a complex input or output, `Function` runs `jvp_from_backward` instead,
which is right for every op whatever its complex structure: PyTorch's backward of a complex op
is the transpose of its Jacobian as a map of R^2n (the gradient convention dL/dx + i dL/dy), so
transposing the backward once more gives the Jacobian itself, holomorphic or not (abs, angle,
real).

Each is called as `jvp(ctx, *tangents)` by `Function._forward_tangents`, with forward AD off
at its level and the inner ones (on at the outer ones: nested levels, `dual.py`) and
`ctx.saved_tensors` readable (also when the op was not recorded); `ctx.needs_input_grad`
then says which inputs have a tangent.
"""

from __future__ import annotations

from typing import Any

from .dual import state as dual_state
from .grad_mode import enable_grad, set_grad_enabled
from .grad_mode import state as _grad_state
from .saved import SavedTensor
from .tensor import Tensor, _wrap


def rule_facts(*, reads_saved: bool = True, complex_safe: bool = False) -> Any:
    """Decorate a jvp rule with what `Function` may skip for it: `reads_saved=False`, it reads
    its op's arguments and outputs from `ctx._dual_call` only (saved_tensors is not built for
    an op that is not recorded); `complex_safe=True`, it is right for complex tensors as it
    is (linear, or holomorphic with f'(z) as the real formula writes it)."""

    def mark(rule: Any) -> Any:
        target: Any = rule.__func__ if isinstance(rule, staticmethod) else rule
        target.reads_saved = reads_saved
        target.complex_safe = complex_safe
        return rule

    return mark


def auto_element_wise(ctx: Any, *tangents: Tensor | None) -> Tensor | None:
    """An elementwise op's Jacobian is diagonal (per input, up to broadcasting), so its JVP is
    its backward with each input's tangent as the gradient: sum over inputs of
    backward(tangent_i)[i]."""
    total: Tensor | None = None
    backward = type(ctx).backward
    count = len(tangents)
    for index, tangent in enumerate(tangents):
        if tangent is None:
            continue
        ctx.needs_input_grad = tuple([position == index for position in range(count)])
        grads = backward(ctx, tangent)
        term = grads[index] if type(grads) is tuple else grads
        if term is not None:
            total = term if total is None else total + term
    return total


@rule_facts(reads_saved=False, complex_safe=True)
def auto_linear(ctx: Any, *tangents: Tensor | None) -> Any:
    """An op linear in its floating Tensor inputs together (views, copies, sums, gathers,
    concatenation): the op itself on their tangents, zeros for the inputs without one, with
    the same options and the same non-floating inputs (indices, masks)."""
    args, kwargs, _ = ctx._dual_call
    if kwargs.get("inplace"):  # into a new array, never into the tangent
        kwargs = {**kwargs, "inplace": False}
    moved = []
    for arg, tangent in zip(args, tangents):
        if tangent is not None:
            moved.append(tangent)
        elif isinstance(arg, Tensor) and _inexact(arg):
            moved.append(_zeros_like(arg))
        else:
            moved.append(arg)
    return type(ctx).apply(*moved, **kwargs)




def auto_linear_with(**options: Any) -> Any:
    """`auto_linear` for an op affine in its input through a constant option (a fill or pad
    `value`): the op on the tangents with the option set to its zero."""

    def rule(ctx: Any, *tangents: Tensor | None) -> Any:
        args, kwargs, outputs = ctx._dual_call
        ctx._dual_call = (args, {**kwargs, **options}, outputs)
        return auto_linear(ctx, *tangents)

    return rule_facts(reads_saved=False, complex_safe=True)(rule)


@rule_facts(reads_saved=False, complex_safe=True)
def auto_multilinear(ctx: Any, *tangents: Tensor | None) -> Any:
    """An op linear in each Tensor input separately (matmul, einsum): the product rule, one
    application of the op per input with a tangent, that input replaced by its tangent."""
    args, kwargs, _ = ctx._dual_call
    total = None
    for index, tangent in enumerate(tangents):
        if tangent is None:
            continue
        moved = list(args)
        moved[index] = tangent
        term = type(ctx).apply(*moved, **kwargs)
        total = term if total is None else total + term
    return total




def linear_in(*positions: int) -> Any:
    """`auto_linear` for an op linear in the inputs at `positions` only, the others (a class
    weight, say) fixed: the op on their tangents, the other inputs as they are."""

    def rule(ctx: Any, *tangents: Tensor | None) -> Any:
        args, kwargs, _ = ctx._dual_call
        if any(tangent is not None for index, tangent in enumerate(tangents)
               if index not in positions):
            from .function import _no_jvp  # a fixed input with a tangent: no formula here
            _no_jvp(ctx)
        moved = [(tangents[index] if tangents[index] is not None else _zeros_like(arg))
                 if index in positions else arg for index, arg in enumerate(args)]
        return type(ctx).apply(*moved, **kwargs)

    return rule_facts(reads_saved=False, complex_safe=True)(rule)


def reduction_jvp(ctx: Any, tangent: Tensor) -> Tensor | None:
    """A reduction whose forward keeps `axes` (None or empty: every dim) and `keepdim` on ctx,
    each input element feeding one output element: J t sums (J^T 1) * t over the reduced dims,
    J^T 1 being the backward of ones (sum, mean, prod, var, std, logsumexp, amax/amin)."""
    _, _, output = ctx._dual_call
    derivative = type(ctx).backward(ctx, _ones_like(output))
    if type(derivative) is tuple:
        derivative = derivative[0]
    if derivative is None:  # a piecewise-constant reduction (the 0-norm)
        return None
    terms = derivative * tangent
    if tangent._data.ndim == 0:
        return terms
    axes = ctx.axes or tuple(range(tangent._data.ndim))
    return terms.sum(axes, keepdim=ctx.keepdim)


def picked_jvp(ctx: Any, tangent: Tensor) -> tuple[Tensor, None]:
    """Ops whose values are input elements picked at the indices they also return (max/min
    along a dim, sort, topk, kthvalue, median, mode, cummax): the tangent picked there. The
    forward keeps `dim` and the `indices` array on ctx (and `keepdim` when it reduces)."""
    if tangent._data.ndim == 0:
        return tangent, None
    dim = ctx.dim
    indices = _wrap(ctx.indices, tangent._backend)
    keepdim = getattr(ctx, "keepdim", True)
    if not keepdim:
        indices = indices.unsqueeze(dim)
    picked = tangent.gather(dim, indices)
    return (picked if keepdim else picked.squeeze(dim)), None


def jvp_from_backward(ctx: Any, *tangents: Tensor | None) -> Any:
    """The JVP as the transpose of the backward: backward is linear in its gradient u, so
    d/du <backward(u)_i, tangent_i> = J tangent. One recorded backward and one backward of it
    (the double-backward trick, per op); for ops whose Jacobian has no cheaper product.
    Recorded (differentiable in reverse mode) when grad mode is on."""
    _, _, outputs = ctx._dual_call
    many = type(outputs) is tuple
    output_tensors = outputs if many else (outputs,)
    args, _, _ = ctx._dual_call
    # Recorded only where something to differentiate it by requires grad (the tangent is
    # linear in the seeds, which would otherwise be all it hangs from).
    create_graph = _grad_state.enabled and any(
        isinstance(item, Tensor) and item._requires_grad for item in (*args, *tangents))
    saved = ctx._saved
    if saved:
        ctx._saved = tuple([_requiring_grad(entry) for entry in saved])
    try:
        return _transposed_backward(ctx, tangents, output_tensors, many, create_graph)
    finally:
        ctx._saved = saved


def _requiring_grad(entry: Any) -> Any:
    """A saved input that does not require grad as a leaf that does: fused ops (attention,
    recurrent layers) differentiate their twin w.r.t. their saved inputs in a recorded
    backward, which must depend on the seed through them."""
    if type(entry) is SavedTensor and not entry.is_output and not entry.is_constant \
            and entry.unpack_hook is None and isinstance(entry.data, Tensor) \
            and not entry.data._requires_grad \
            and _inexact(entry.data):
        leaf = entry.data.detach().requires_grad_()
        grads = entry.data._fw_grads
        if grads is not None:  # its tangents at the outer levels (nested forward AD)
            for level, tangent in grads.items():
                dual_state.set_tangent(leaf, tangent, level)
        return SavedTensor(leaf, None)
    return entry


def _transposed_backward(ctx: Any, tangents: tuple[Tensor | None, ...],
                         output_tensors: tuple[Tensor, ...], many: bool,
                         create_graph: bool) -> Any:
    from .autograd.gradients import grad

    with enable_grad():
        seeds = []
        for tensor in output_tensors:
            seed = _ones_like(tensor)  # backward is linear in it: any value (not 0, where
            # a backward in log space, logcumsumexp's, has no derivative)
            if _inexact(tensor):
                seed._requires_grad = True
            seeds.append(seed)
        grads = type(ctx).backward(ctx, *seeds)
        if type(grads) is not tuple:
            grads = (grads,)
        args, _, _ = ctx._dual_call
        pairs = [(_summed_to(gradient, arg), tangent)
                 for gradient, tangent, arg in zip(grads, tangents, args)
                 if tangent is not None and gradient is not None and gradient._requires_grad]
        wanted = [seed for seed in seeds if seed._requires_grad]
        if not pairs:
            return None
        with set_grad_enabled(create_graph):
            results = grad([gradient for gradient, _ in pairs], wanted,
                           [tangent for _, tangent in pairs], create_graph=create_graph,
                           allow_unused=True)
    if not many:
        return results[0]
    found = iter(results)
    return tuple([next(found) if seed._requires_grad else None for seed in seeds])


@rule_facts(reads_saved=False, complex_safe=True)
def zero_tangent(ctx: Any, *tangents: Tensor | None) -> Tensor:
    """Ops whose output does not depend on their inputs' values (fill_, zero_)."""
    _, _, outputs = ctx._dual_call
    return _zeros_like(outputs)




def sum_terms(terms: list[Tensor | None]) -> Tensor | None:
    """The sum of a rule's terms, None where there are none (a zero tangent)."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total


def _inexact(tensor: Tensor) -> bool:
    dtype = tensor._data.dtype
    return tensor._backend.is_floating(dtype) or tensor._backend.is_complex(dtype)


def _summed_to(gradient: Tensor, arg: Tensor) -> Tensor:
    shape = arg._data.shape
    return gradient if gradient._data.shape == shape else gradient.sum_to_size(shape)


def _zeros_like(tensor: Tensor) -> Tensor:
    backend = tensor._backend
    return _wrap(backend.zeros(tensor._data.shape, backend.dtype_name(tensor._data)), backend)


def _ones_like(tensor: Tensor) -> Tensor:
    backend = tensor._backend
    return _wrap(backend.ones(tensor._data.shape, backend.dtype_name(tensor._data)), backend)
