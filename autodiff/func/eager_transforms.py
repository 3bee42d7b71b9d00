"""Reverse-mode transforms: grad, grad_and_value, vjp, jacrev, hessian (torch.func's).

Each call differentiates through the tape: the inputs in `argnums` become fresh differentiable
tensors, `func` runs with grad mode on, and `autograd.grad` takes the vector-Jacobian
product. Inside vmap an input is first made batched at every open vmap level (an unbatched
one is broadcast along them, as a view), so each example gets its own gradient; the tape runs
on the physical tensors, where examples never mix, so one backward pass gives every example's
gradient. Transforms compose: when the function's graph reaches tensors that need grad
outside this transform (the input of an enclosing grad, a parameter), the backward pass is
recorded (`create_graph`), so an enclosing transform can differentiate it again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..autograd.gradients import grad as autograd_grad
from ..batching.batched_tensor import BatchedTensor, make_batched, move_into_level
from ..batching.dispatch import loop
from ..batching.levels import levels
from ..creation import zeros_like
from ..engine import Reach, reach_inputs, run_backward
from ..grad_mode import enable_grad, is_grad_enabled
from ..node import AccumulateGrad
from ..tensor import Tensor, _wrap
from .pytree import TreeSpec, tree_flatten, tree_unflatten


# ----------------------------------------------------------------------------- inputs
class _Input:
    """One differentiated input: the tensor `func` sees and the physical leaf under it."""

    def __init__(self, tensor: Tensor, tracking: bool) -> None:
        stack = levels.stack
        if (len(stack) == 1 and type(tensor) is not BatchedTensor and not tensor._fw_grads
                and not (tracking and tensor.requires_grad)):
            # the common case (vmap(grad(f)) over an unbatched input): the leaf is the input
            # broadcast along the batch, made at once
            level = stack[0]
            backend = tensor._backend
            data = backend.broadcast_to(tensor._data, (level.batch_size, *tensor._data.shape))
            self.chain, self.dual = [level.number], False
            self.leaf = _wrap(data, backend).requires_grad_()
            self.tensor: Tensor = make_batched(self.leaf, level.number)
            return
        for level in stack:  # one example's own copy at every open level
            if level.number not in _levels_of(tensor):
                expanded = tensor.expand((level.batch_size, *tensor.shape))
                tensor = move_into_level(expanded, level.number)
        self.chain = _levels_of(tensor)
        physical = _physical(tensor)
        self.dual = physical._fw_grads is not None  # under jvp: forward over reverse
        if tracking and physical.requires_grad:
            self.leaf = physical.view_as(physical)  # stays connected to the enclosing graph
        elif self.dual:  # a view keeps the tangent (detach would drop it)
            self.leaf = physical.view_as(physical).requires_grad_()
        else:
            self.leaf = physical.detach().requires_grad_()
        self.tensor = _rewrap(self.leaf, self.chain)

    def wrap(self, physical: Tensor) -> Tensor:
        return _rewrap(physical, self.chain)


def _levels_of(tensor: Any) -> list[int]:
    chain = []
    while type(tensor) is BatchedTensor:
        chain.append(tensor._level)
        tensor = tensor._value
    return chain


def _physical(tensor: Any) -> Any:
    while type(tensor) is BatchedTensor:
        tensor = tensor._value
    return tensor


def _rewrap(physical: Tensor, chain: list[int]) -> Tensor:
    if len(chain) == 1:  # one open vmap (vmap(grad)): one wrapper
        return make_batched(physical, chain[0])
    for number in reversed(chain):
        physical = make_batched(physical, number)
    return physical


def _check_argnums(argnums: Any, count: int, name: str) -> tuple[int, ...]:
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    if isinstance(argnums, tuple) and not argnums:
        raise RuntimeError(f"{name}: argnums must be non-empty")
    for number in numbers:
        if not isinstance(number, int):
            raise RuntimeError(f"{name}: argnums must be int or Tuple[int, ...], got: "
                               f"{type(number)}")
        if not -count <= number < count:
            raise RuntimeError(f"Got argnum={number}, but only {count} positional inputs")
    return tuple(n % count for n in numbers)


def _prepare(args: tuple[Any, ...], argnums: Any, name: str,
             tracking: bool) -> tuple[list[Any], list[_Input], Any]:
    """args with the differentiated ones replaced; their _Inputs; the spec of `argnums`'s
    arguments (rebuilds the gradients' structure)."""
    numbers = _check_argnums(argnums, len(args), name)
    new_args = list(args)
    inputs: list[_Input] = []
    specs = []
    for number in numbers:
        leaves, spec = tree_flatten(args[number])
        made = []
        for leaf in leaves:
            if not isinstance(leaf, Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(leaf)}")
            made.append(_Input(leaf, tracking))
        inputs.extend(made)
        new_args[number] = tree_unflatten([m.tensor for m in made], spec)
        specs.append(spec)
    if not isinstance(argnums, tuple):
        return new_args, inputs, specs[0]
    return new_args, inputs, TreeSpec(tuple, (), tuple(specs))


def _reaches_outside(outputs: list[Tensor], inputs: list[_Input]) -> bool:
    """Whether the graph of `outputs` reaches a tensor that needs grad other than this
    transform's fresh leaves (then the backward pass is recorded for whoever needs it)."""
    own = set()
    for input in inputs:
        if input.leaf._grad_fn is None:
            own.add(input.leaf)
    stack = []
    for output in outputs:
        node = output._grad_fn
        if node is not None:
            stack.append(node)
        elif output._requires_grad and output not in own:
            return True
    seen = set()
    while stack:  # nodes hash by identity: one set of the nodes met
        node = stack.pop()
        if type(node) is AccumulateGrad:
            if node.variable not in own:
                return True
            continue
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    return False


def _gradients(outputs: list[Tensor], inputs: list[Any], cotangents: list[Tensor],
               create_graph: bool, retain_graph: bool, seeded: bool = False,
               seed_reach: Reach | None = None) -> list[Tensor]:
    """The vector-Jacobian products on the physical tensors, each input's as its own kind
    (batched like the input; zeros where the outputs do not depend on it). `seeded`: grad's
    own seed of ones, and `seed_reach` its walk's plan if it has one."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not pairs:
        return [i.wrap(zeros_like(i.leaf)) for i in inputs]
    leaves = [i.leaf for i in inputs]
    if seeded:  # grad's own seed of ones: nothing of autograd.grad's argument checks to do
        grads: Any = run_backward([o for o, _ in pairs], [c for _, c in pairs], retain_graph,
                                  create_graph, leaves, accumulate_grad=False,
                                  reach=seed_reach)
    else:
        grads = autograd_grad([o for o, _ in pairs], leaves, [c for _, c in pairs],
                              retain_graph=retain_graph, create_graph=create_graph,
                              allow_unused=True)
    out = []
    given: set[int] = set()
    for grad, input in zip(grads, inputs):
        if grad is None:
            grad = zeros_like(input.leaf)
        elif not create_graph and not input.dual and (
                grad._requires_grad or grad._fw_grads is not None or id(grad) in given):
            # out of any graph (a tangent of the gradient is kept: jvp asked for it), and
            # each input's its own tensor; a result of the unrecorded pass already is one
            grad = grad.detach()
        given.add(id(grad))
        out.append(input.wrap(grad))
    return out


def _detached(tree: Any, keep: bool) -> Any:
    if keep:
        return tree
    if isinstance(tree, Tensor):
        return tree.detach()
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([leaf.detach() if isinstance(leaf, Tensor) else leaf
                           for leaf in leaves], spec)


# ----------------------------------------------------------------------------- grad
def grad_and_value(func: Callable[..., Any], argnums: Any = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """torch.func.grad_and_value: (the gradient w.r.t. `argnums`, func's value)."""
    return _grad_and_value(func, argnums, has_aux, keep_value=True)


def _grad_and_value(func: Callable[..., Any], argnums: Any, has_aux: bool,
                    keep_value: bool) -> Callable[..., Any]:
    """grad_and_value's wrapper; without `keep_value`, grad's: the gradient (and aux) alone,
    no detached copy of the value made."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tracking = is_grad_enabled()
        with enable_grad():
            new_args, inputs, spec = _prepare(args, argnums, "grad_and_value", tracking)
            output = func(*new_args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(output, tuple) and len(output) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should "
                                       "be a tuple: (output, aux) if has_aux is True")
                output, aux = output
            if not isinstance(output, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {output.dim()} dims. Maybe "
                                   "you wanted to use the vjp or jacrev APIs instead?")
            physical = _physical(output)
            # The graph below the output reaches no tensor needing grad other than the fresh
            # leaves: the pass need not be recorded (the walk, worked out, is not walked again)
            reach = (reach_inputs([physical], [input.leaf for input in inputs])
                     if physical._requires_grad else None)
            create_graph = tracking and physical._requires_grad and reach is None
            backend = physical._backend
            data = physical._data
            seed = _wrap(backend.ones(data.shape, backend.dtype_name(data)), backend)
            grads = _gradients([physical], inputs, [seed], create_graph,
                               retain_graph=create_graph, seeded=True, seed_reach=reach)
        result = tree_unflatten(grads, spec)
        if not keep_value:
            return (result, _detached(aux, create_graph)) if has_aux else result
        value = _detached(output, create_graph)
        if has_aux:
            return result, (value, _detached(aux, create_graph))
        return result, value

    return wrapper


def grad(func: Callable[..., Any], argnums: Any = 0, has_aux: bool = False) -> Callable[..., Any]:
    """torch.func.grad: the gradient of a scalar function w.r.t. the arguments `argnums`."""
    return _grad_and_value(func, argnums, has_aux, keep_value=False)


# ----------------------------------------------------------------------------- vjp
def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """torch.func.vjp: (func(*primals), vjp_fn[, aux]); vjp_fn(cotangents) gives one
    vector-Jacobian product per primal."""
    tracking = is_grad_enabled()
    with enable_grad():
        new_args, inputs, _ = _prepare(primals, tuple(range(len(primals))), "vjp", tracking) \
            if primals else ([], [], None)
        primal_specs = [tree_flatten(p)[1] for p in primals]
        output = func(*new_args)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError("vjp(f, *primals): output of function f should be a tuple: "
                                   "(output, aux) if has_aux is True")
            output, aux = output
        out_leaves, out_spec = tree_flatten(output)
        for leaf in out_leaves:
            if not isinstance(leaf, Tensor):
                raise RuntimeError("vjp(f, *primals): Expected f to be a function that has "
                                   "non-empty output and returns a Tensor or a (nested) tuple "
                                   f"of Tensors, got {type(leaf)}")
        physical_outputs = [_physical(leaf) for leaf in out_leaves]
        create_graph = tracking and _reaches_outside(physical_outputs, inputs)
    creation_depth = levels.depth
    created_levels = {level.number for level in levels.stack}

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True,
               create_graph: bool | None = None) -> tuple[Any, ...]:
        cot_leaves, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec and not (len(cot_leaves) == len(out_leaves) == 1):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{cot_spec}, primal output: {out_spec}")
        newer = [lvl for lvl in levels.stack if lvl.number not in created_levels
                 and any(lvl.number in _levels_of(c) for c in cot_leaves
                         if isinstance(c, Tensor))]
        if len(newer) > 1:  # several: one level at a time
            return loop(vjp_fn, (cotangents,), {}, newer[-1])
        for cot, out in zip(cot_leaves, out_leaves):
            if tuple(cot.shape) != tuple(out.shape):
                raise RuntimeError("Mismatch in shape: grad_output[0] has a shape of "
                                   f"{tuple(cot.shape)} and output[0] has a shape of "
                                   f"{tuple(out.shape)}.")
        record = create_graph_default if create_graph is None else create_graph
        with enable_grad():
            if newer:  # cotangents batched by a vmap opened after vjp: one batched backward
                grads = _batched_gradients(physical_outputs, out_leaves, cot_leaves, inputs,
                                           newer[0].number, record)
            else:
                physical_cots = [_cotangent(cot, out) for cot, out in zip(cot_leaves,
                                                                          out_leaves)]
                grads = _gradients(physical_outputs, inputs, physical_cots, record,
                                   retain_graph=True)
        per_primal = []
        start = 0
        for spec in primal_specs:
            count = spec.num_leaves
            per_primal.append(tree_unflatten(grads[start:start + count], spec))
            start += count
        return tuple(per_primal)

    create_graph_default = create_graph
    del creation_depth
    value = _detached(output, create_graph)
    if has_aux:
        return value, vjp_fn, _detached(aux, create_graph)
    return value, vjp_fn


def _batched_gradients(physical_outputs: list[Tensor], outputs: list[Tensor],
                       cotangents: list[Tensor], inputs: list[_Input], number: int,
                       create_graph: bool) -> list[Tensor]:
    """The vector-Jacobian products for cotangents batched at level `number` (a vmap opened
    after the forward pass, as jacrev's): the backward pass runs once on tensors batched at
    that level (every backward is made of ops, which batch like any other)."""
    physical_cots: list[Tensor] = []
    for cot, out in zip(cotangents, outputs):
        full = _cotangent(cot, out)  # examples of the output's levels, then of `number`
        older = len(_levels_of(out))
        physical_cots.append(make_batched(full.movedim(older, 0), number))
    grads = _gradients(physical_outputs, [_Plain(i) for i in inputs], physical_cots,
                       create_graph, retain_graph=True)
    results: list[Tensor] = []
    for grad, input in zip(grads, inputs):
        if type(grad) is BatchedTensor and grad._level == number:
            value = grad._value
        else:  # the same for every example
            size = levels.find(number).batch_size
            value = grad.unsqueeze(0).expand((size, *grad.shape))
        older = len(input.chain)
        results.append(make_batched(input.wrap(value.movedim(0, older)), number))
    return results


class _Plain:
    """An _Input whose gradients stay as the engine returns them (physical)."""

    def __init__(self, input: _Input) -> None:
        self.leaf = input.leaf
        self.dual = input.dual

    def wrap(self, physical: Tensor) -> Tensor:
        return physical


def _cotangent(cotangent: Tensor, output: Tensor) -> Tensor:
    """A cotangent as a physical tensor of the output's physical shape."""
    chain = _levels_of(output)
    for number in chain:  # batched like the output (broadcast where it is not)
        if number not in _levels_of(cotangent):
            level = levels.find(number)
            cotangent = move_into_level(
                cotangent.unsqueeze(0).expand((level.batch_size, *cotangent.shape)), number)
    physical = _physical(cotangent)
    return physical


# ----------------------------------------------------------------------------- Jacobians
def jacrev(func: Callable[..., Any], argnums: Any = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, _preallocate_and_copy: bool = False) -> Any:
    """torch.func.jacrev: the Jacobian by reverse mode, one vector-Jacobian product per output
    element, vmapped (in chunks of `chunk_size` rows)."""
    from .vmap import vmap

    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = _check_argnums(argnums, len(args), "jacrev")
        diff = tuple(args[n] for n in numbers)

        def restricted(*diff_args: Any) -> Any:
            full = list(args)
            for number, value in zip(numbers, diff_args):
                full[number] = value
            return func(*full, **kwargs)

        result = vjp(restricted, *diff, has_aux=has_aux)
        if has_aux:
            output, vjp_fn, aux = result
        else:
            output, vjp_fn = result
        out_leaves, out_spec = tree_flatten(output)
        sizes = [leaf.numel() for leaf in out_leaves]
        total = sum(sizes)
        first = out_leaves[0]
        from ..creation import eye

        basis = eye(total, dtype=first.dtype, device=first.device)
        cotangents = []
        start = 0
        for leaf, size in zip(out_leaves, sizes):
            cotangents.append(basis[:, start:start + size].reshape((total, *leaf.shape)))
            start += size
        cot_tree = tree_unflatten(cotangents, out_spec)
        rows = vmap(vjp_fn, chunk_size=chunk_size)(cot_tree)  # per primal: (total, *shape)
        jac_per_output = []
        start = 0
        for leaf, size in zip(out_leaves, sizes):
            per_input = []
            for primal_rows in rows:
                p_leaves, p_spec = tree_flatten(primal_rows)
                per_input.append(tree_unflatten(
                    [r[start:start + size].reshape((*leaf.shape, *r.shape[1:]))
                     for r in p_leaves], p_spec))
            jac_per_output.append(per_input[0] if not isinstance(argnums, tuple)
                                  else tuple(per_input))
            start += size
        jacobian = tree_unflatten(jac_per_output, out_spec)
        return (jacobian, aux) if has_aux else jacobian

    return wrapper


def hessian(func: Callable[..., Any], argnums: Any = 0) -> Any:
    """torch.func.hessian: the Jacobian of the Jacobian, forward over reverse
    (jacfwd(jacrev(func))), as PyTorch's."""
    from .forward_transforms import jacfwd

    return jacfwd(jacrev(func, argnums), argnums)


__all__ = ["grad", "grad_and_value", "hessian", "jacrev", "vjp"]
