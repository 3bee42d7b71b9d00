"""`compile(fn)`: trace once per signature, replay a flat program afterwards.

A call computes the signature (`guards.py`). Unknown signature: the function runs eagerly under
a `Tracer` (`tracing.py`); if nothing broke the graph, what the call left behind is checked and
turned into a `Program` (`program.py`, optimized by `passes.py`): its inputs are the arrays of
the argument Tensors and of the state (parameters, `.grad`, optimizer state), its outputs the
arrays of the returned Tensors and those the call stored into the state. Known signature: the
program runs on the current arrays, the `.grad` fields and version counters are set as the
eager call set them, and the results are wrapped in new Tensors.

Python side effects of the function other than on Tensors (printing, appending to a list) run
in the traced call only, as with `jax.jit`. A result that would need its graph for a backward
outside the function makes the signature run eagerly (a program has no graph); a result of a
function that ran its own backward comes back detached.
"""

from __future__ import annotations

import builtins
import collections
import functools
import logging
import os
from collections.abc import Callable
from typing import Any

import backends

from .. import autocast_state
from ..batching.levels import levels as vmap_levels
from ..dual import state as dual_state
from ..nn.modules.module import Module
from ..node import anomaly_state
from ..profiling import profiler_state
from ..saved import saved_tensors_hooks_state
from ..tensor import Tensor, _wrap
from . import blocking, checks, compiled_autograd, config, fusion, guards, passes, switches, tracing
from .program import Program

OPTIONS = {"constant_folding": True, "dead_code_elimination": True, "buffer_planning": True,
           "kernel_operations": True, "blocked_elementwise": True, "cross_entropy_fusion": True,
           "product_reductions": False}
_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


class CompileStats:
    """Counts over every compiled function (`autodiff.compile_stats()`)."""

    def __init__(self) -> None:
        self.traces = 0
        self.replays = 0
        self.eager_calls = 0  # calls of signatures that run eagerly (graph breaks and the rest)
        self.disabled_calls = 0  # AUTODIFF_COMPILE=0
        self.guard_failures = 0  # replays that read another value than the trace: run eagerly
        self.graph_breaks: list[tracing.GraphBreak] = []
        self.recompile_limit_hits = 0  # new signatures past config.recompile_limit, run eagerly

    def as_dict(self) -> dict[str, Any]:
        return {"traces": self.traces, "replays": self.replays, "eager_calls": self.eager_calls,
                "disabled_calls": self.disabled_calls,
                "recompile_limit_hits": self.recompile_limit_hits,
                "guard_failures": self.guard_failures, "graph_breaks": len(self.graph_breaks),
                "break_reasons": [repr(item) for item in self.graph_breaks]}

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


STATS = CompileStats()
# torch._dynamo.utils.counters: the counts PyTorch's tutorials read, kept as PyTorch keeps them
# (never reset by `reset()`; `counters.clear()` clears them): "frames" (total, ok: calls
# traced), "stats" (unique_graphs: programs made; calls_captured: the ops recorded into
# them) and "graph_break" (each reason, counted per break).
counters: collections.defaultdict[str, collections.Counter[str]] = collections.defaultdict(
    collections.Counter)
_log = logging.getLogger("autodiff.compile")
_recompiles_log = logging.getLogger("autodiff.compile.recompiles")
_graph_breaks_log = logging.getLogger("autodiff.compile.graph_breaks")
_graph_log = logging.getLogger("autodiff.compile.graph")
_output_code_log = logging.getLogger("autodiff.compile.output_code")
_fusion_log = logging.getLogger("autodiff.compile.fusion")


class _Logs:
    """Which of the compiler's artifacts are logged (`autodiff._logging.set_logs`)."""

    recompiles = False
    graph_breaks = False
    graph = False
    output_code = False
    fusion = False


_logs = _Logs()


class FailOnRecompileLimitHit(Exception):
    """A new signature past `config.recompile_limit` under fullgraph=True (or with
    `config.fail_on_recompile_limit_hit`), as torch._dynamo.exc.FailOnRecompileLimitHit."""


class _Argument:
    """A result that is one of the argument Tensors itself."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Effect:
    """What the traced call did to one state tensor, redone after each replay."""

    __slots__ = ("data", "grad", "grad_version", "index", "set_grad", "version")

    def __init__(self, index: int) -> None:
        self.index = index
        self.data: int | None = None  # position in the program's outputs of its new array
        self.set_grad = False
        self.grad: int | None = None  # its new .grad's array (None with set_grad: .grad = None)
        self.version = 0  # how far its version counter moved
        self.grad_version = 0


class Entry:
    """One signature: its program, or why it runs eagerly."""

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason
        self.program: Program | None = None
        self.inputs: list[checks.InputSource] = []
        self.effects: list[_Effect] = []
        self.result: Any = None  # the results' structure; _Result marks a new Tensor
        self.backend: Any = None
        self.state: list[Tensor] = []  # the state tensors (inputs after the arguments')
        self.hold: list[Any] = []  # the state tensors, kept alive so their ids stay theirs
        self.check: checks.Check | None = None  # the cache hit's test (checks.py)
        self.finish: Callable[[Any, list[Tensor]], Any] = _unfinished


class _Result:
    __slots__ = ("backend", "position")

    def __init__(self, position: int, backend: Any) -> None:
        self.position, self.backend = position, backend


class CompiledFunction(switches.Forgetful):
    """A function (or module) compiled with `autodiff.compile`."""

    def __init__(self, function: Callable[..., Any], fullgraph: bool,
                 options: dict[str, bool]) -> None:
        self.function = function
        self.fullgraph = fullgraph
        self.options = options
        self.cache: dict[tuple[Any, ...], Entry] = {}
        self.stats = CompileStats()
        self._recent: list[Entry] = []  # the entries last used, whose checks a call tries
        self._mode_breaks: set[str] = set()
        self._warned_limit = False
        self._eager_first_done = False  # the "eager_then_compile" stance's first call
        # Read once, when compiled: the variable is for switching compilation off per run.
        self.disabled = os.environ.get("AUTODIFF_COMPILE") == "0"
        functools.update_wrapper(self, function, updated=())
        switches.COMPILED.add(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        function = self.function
        if self.disabled:
            _count("disabled_calls", self.stats)
            return function(*args, **kwargs)
        if config.compiled_autograd and switches.backward.compiler is None \
                and not switches.backward.disabled:
            return self._with_compiled_autograd(args, kwargs)
        if tracing.state.tracer is not None:  # inside another compiled function's trace
            return function(*args, **kwargs)
        if switches.state.stance is not switches.DEFAULT and self._eager_by_stance():
            _count("eager_calls", self.stats)
            return function(*args, **kwargs)
        if (profiler_state.active or anomaly_state.recording or dual_state.enabled
                or vmap_levels.depth or saved_tensors_hooks_state.open):
            return self._eager_mode(args, kwargs)
        for recent in self._recent:  # most recently used first
            hit = recent.check(args, kwargs)  # type: ignore[misc]
            if hit is not None:
                if recent is not self._recent[0]:
                    self._use(recent)
                program = recent.program
                if program is None or program.restore or program.reseed:
                    return self._run(recent, hit[0], hit[1], args, kwargs)
                try:  # (the common case, inline)
                    results = program.run(hit[1])
                except tracing.GuardFailed:
                    _count("guard_failures", self.stats)
                    return function(*args, **kwargs)
                self.stats.replays += 1
                STATS.replays += 1
                return recent.finish(results, hit[0])
        arguments: list[Tensor] = []
        try:
            arguments_key = guards.arguments_key(args, kwargs, arguments)
        except guards.LayoutArgument:
            _count("eager_calls", self.stats)
            return function(*args, **kwargs)
        # Modules, optimizers or containers among the arguments are state to walk too.
        extra = [item for item in (*args, *kwargs.values())
                 if type(item) not in guards.PLAIN and not isinstance(item, Tensor)]
        roots, bindings = guards.roots_of(function)
        structure = checks.Structure()
        found = guards.reach([*roots, *extra], arguments, structure) if roots or extra \
            else _NOTHING
        key = (arguments_key, guards.state_key(found), autocast_state.signature(),
               guards.plain_key(roots))
        entry = self.cache.get(key)
        if (entry is None and switches.state.stance is not switches.DEFAULT
                and self._new_by_stance()):
            _count("eager_calls", self.stats)
            return function(*args, **kwargs)
        if entry is None and len(self.cache) >= config.recompile_limit:
            return self._past_recompile_limit(args, kwargs)
        if entry is None:
            if self.cache and _logs.recompiles:
                _recompiles_log.debug("Recompiling function %s\n    triggered by: %s",
                                      _where(function), _what_changed(next(reversed(self.cache)),
                                                                      key))
            if extra:  # the arguments' own containers are checked by content, not identity
                inside = guards.containers_in(extra)
                structure.lists = [item for item in structure.lists if id(item) not in inside]
                structure.dicts = [item for item in structure.dicts if id(item) not in inside]
            structure.bindings = bindings
            return self._trace(key, found, structure, roots, arguments, args, kwargs)
        self._use(entry)
        return self._run(entry, arguments, _inputs_of(entry, [*arguments, *found.tensors]),
                         args, kwargs)

    def _with_compiled_autograd(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """`config.compiled_autograd`: the call runs with compiled autograd on, a backward
        graph compiled as this function is (PyTorch's dynamo does the same per frame)."""
        options = self.options

        def compiler(module: Module) -> Any:
            return compile(module, options=options)

        with compiled_autograd.enable(compiler):
            return self(*args, **kwargs)

    def forget(self) -> None:
        """Drop every program (`autodiff.compiler.reset`): the next call traces afresh."""
        self.cache.clear()
        self._recent.clear()
        self._mode_breaks.clear()
        self._warned_limit = False
        self._eager_first_done = False

    def _eager_by_stance(self) -> bool:
        """Whether the stance runs this call eagerly, whatever its signature."""
        current = switches.state.stance
        switches.check(current)
        if current.stance == "force_eager" or current.backend == "eager":
            return True
        if current.stance in ("eager_then_compile", "aot_eager_then_compile") \
                and not self._eager_first_done and not self.cache:
            self._eager_first_done = True
            return True
        return False

    def _new_by_stance(self) -> bool:
        """A call with a new signature: whether the stance runs it eagerly instead of tracing
        (or raises, under "fail_on_recompile")."""
        current = switches.state.stance.stance
        if current == "fail_on_recompile":
            code = _code_of(self.function)
            where = (f"filename: '{code.co_filename}', function name: '{code.co_name}', "
                     f"line number: {code.co_firstlineno}" if code is not None
                     else f"function: {self.function!r}")
            raise RuntimeError("Detected recompile when torch.compile stance is "
                               f"'fail_on_recompile'. {where}")
        return current == "eager_on_recompile"

    def _past_recompile_limit(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A new signature once `config.recompile_limit` signatures are traced: PyTorch's
        failure under fullgraph=True or fail_on_recompile_limit_hit, else an eager call (the
        traced signatures keep replaying) and, the first time, dynamo's warning."""
        if self.fullgraph or config.fail_on_recompile_limit_hit:
            why = "fullgraph=True" if self.fullgraph else "fail_on_recompile_limit_hit"
            raise FailOnRecompileLimitHit(f"Hard failure due to {why}")
        if not self._warned_limit:
            self._warned_limit = True
            where = _where(self.function)
            _log.warning("autodiff.compile hit config.recompile_limit (%s)\n"
                         "   function: %s\n"
                         "   last reason: a new signature (shapes, dtypes, devices, "
                         "requires_grad, grad mode or the state's plain values)",
                         config.recompile_limit, where)
        _count("eager_calls", self.stats)
        _count("recompile_limit_hits", self.stats)
        return self.function(*args, **kwargs)

    def _use(self, entry: Entry) -> None:
        recent = self._recent
        if entry in recent:
            recent.remove(entry)
        recent.insert(0, entry)
        del recent[_RECENT:]

    def _run(self, entry: Entry, arguments: list[Tensor], inputs: list[Any],
             args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        program = entry.program
        if program is None:
            _count("eager_calls", self.stats)
            return self.function(*args, **kwargs)
        try:
            result = _replay(entry, program, arguments, inputs)
        except tracing.GuardFailed:
            _count("guard_failures", self.stats)
            return self.function(*args, **kwargs)
        self.stats.replays += 1
        STATS.replays += 1
        return result

    def _eager_mode(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A mode a program cannot replay is on: the profiler (which records each op),
        anomaly mode or replayable() (which keep each node's trace and inputs), saved-tensor
        hooks, a forward-AD dual level (tangents ride on the Tensors), vmap (batched Tensors).
        The call runs eagerly; under fullgraph=True only the profiler is allowed to."""
        if not profiler_state.active:
            reason = (
                "anomaly mode or autograd.graph.replayable() is on" if anomaly_state.recording
                else "a forward AD dual level is open" if dual_state.enabled
                else "called inside vmap" if vmap_levels.depth
                else "saved_tensors_hooks is open")
            if self.fullgraph:
                raise tracing.CompileError(
                    f"autodiff.compile(fullgraph=True): graph break at "
                    f"{tracing.user_location()}: {reason}")
            if reason not in self._mode_breaks:  # reported once per function and reason
                self._mode_breaks.add(reason)
                item = tracing.GraphBreak(reason, tracing.user_location())
                self.stats.graph_breaks.append(item)
                STATS.graph_breaks.append(item)
        _count("eager_calls", self.stats)
        return self.function(*args, **kwargs)

    # ----------------------------------------------------------------------------- tracing
    def _trace(self, key: tuple[Any, ...], found: guards.Reach, structure: checks.Structure,
               roots: list[Any], arguments: list[Tensor], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Any:
        _count("traces", self.stats)
        _log.debug("tracing %s (signature %d)", _where(self.function), len(self.cache))
        tracer = tracing.Tracer(self.fullgraph)
        tracer.kernel_operations = self.options["kernel_operations"]
        entry = Entry()
        entry.state = found.tensors
        if found.hooks is not None:
            tracer.fullgraph = self.fullgraph
            tracer.recording = True
            tracer.graph_break(found.hooks)
        for tensor in arguments:
            if tensor.grad_fn is not None and tensor._requires_grad:
                tracer.graph_break("an argument has a graph (a non-leaf Tensor requiring grad)")
        before = []
        # The argument Tensors, then the state: one list, as the replay sees it.
        for index, tensor in enumerate([*arguments, *found.tensors]):
            entry.inputs.append(checks.InputSource(index, False))
            if tensor._grad is not None:
                entry.inputs.append(checks.InputSource(index, True))
        # The check of the signature as it is now, before the call changes anything.
        entry.check = checks.build(args, kwargs, found.tensors, structure, entry.inputs)
        for tensor in [*arguments, *found.tensors]:
            tensor._data = tracer.add_input(tensor._data)
            grad = tensor._grad
            if grad is not None:
                grad._data = tracer.add_input(grad._data)
            before.append((tensor._data, grad, None if grad is None else grad._data,
                           tensor._version, None if grad is None else grad._version))
        tracer.outside = {id(tensor) for tensor in [*arguments, *found.tensors]}
        tracer.start(backends.created_backends())
        try:
            with autocast_state.isolated_cache():
                result = self.function(*args, **kwargs)
        except BaseException:
            tracer.stop()
            _unwrap_all([*found.tensors, *arguments], None)
            raise
        tracer.stop()
        counters["frames"]["total"] += 1
        counters["frames"]["ok"] += 1
        if dual_state.enabled or vmap_levels.depth or profiler_state.active:
            tracer.recording = True  # (a level left open: graph_break records nothing else)
            tracer.graph_break("the call left a dual level, vmap or the profiler open")
        after = guards.reach([*roots, args, kwargs], arguments)
        _unwrap_all([*found.tensors, *after.tensors, *arguments], result)
        if tracer.breaks:
            entry.reason = "graph break"
            for item in tracer.breaks:
                counters["graph_break"][item.reason] += 1
                self.stats.graph_breaks.append(item)
                STATS.graph_breaks.append(item)
                if _logs.graph_breaks:
                    _graph_breaks_log.debug("Graph break in %s: %s at %s", _where(self.function),
                                            item.reason, item.location)
        else:
            try:
                self._make_program(entry, tracer, arguments, found, after, before, result)
            except _NotReplayable as why:
                entry.reason = str(why)
                entry.program = None
        _log.debug("traced %s: %s", _where(self.function),
                   "a program" if entry.program is not None else f"runs eagerly ({entry.reason})")
        if entry.reason is not None and self.fullgraph and not tracer.breaks:
            raise tracing.CompileError(f"autodiff.compile(fullgraph=True): {entry.reason}")
        entry.hold = [found.tensors, arguments]
        self.cache[key] = entry
        self._use(entry)
        return result

    def _make_program(self, entry: Entry, tracer: tracing.Tracer, arguments: list[Tensor],
                      found: guards.Reach, after: guards.Reach, before: list[Any],
                      result: Any) -> None:
        everything = [*arguments, *found.tensors]
        known = {id(tensor) for tensor in everything}
        known |= {id(tensor._grad) for tensor in everything if tensor._grad is not None}
        known |= {id(item[1]) for item in before if item[1] is not None}
        for tensor in [*tracer.grad_leaves, *tracer.updated]:
            if id(tensor) not in known and id(tensor) not in tracer.made_leaves:
                raise _NotReplayable(
                    "the call changed a tensor it does not reach through its arguments, "
                    "closure, globals or module (pass the model or optimizer in)")
        if len(after.tensors) != len(found.tensors) or any(
                a is not b for a, b in zip(after.tensors, found.tensors)):
            raise _NotReplayable("the call created state (optimizer state, parameters): "
                                 "the next call traces again")
        outputs: list[int] = []

        def output_of(array: Any, what: str) -> int:
            vid = tracer.ids.get(id(array))
            if vid is None or tracer.values[vid] is not array or vid in tracer.constants:
                raise _NotReplayable(f"{what} holds an array the trace did not make")
            outputs.append(vid)
            return len(outputs) - 1

        for index, tensor in enumerate(everything):
            data_before, grad_before, grad_data_before, version, grad_version = before[index]
            effect = _Effect(index)
            if tensor._data is not tracing.real(data_before):
                effect.data = output_of(tensor._data, "a state tensor")
            grad = tensor._grad
            if grad is not grad_before:
                effect.set_grad = True
                if grad is not None:
                    if grad._requires_grad:
                        raise _NotReplayable("a .grad requires grad (create_graph=True)")
                    effect.grad = output_of(grad._data, "a .grad")
            elif grad is not None:
                if grad._data is not tracing.real(grad_data_before):
                    raise _NotReplayable("a .grad's array was replaced")
                effect.grad_version = grad._version - grad_version
            effect.version = tensor._version - version
            if effect.data is not None or effect.set_grad or effect.version or effect.grad_version:
                entry.effects.append(effect)
        reached = {id(tensor): tensor for tensor in found.tensors}
        positions = {id(tensor): index for index, tensor in enumerate(arguments)}

        def shape_of(obj: Any) -> Any:
            if isinstance(obj, Tensor):
                if id(obj) in reached:
                    return obj
                if id(obj) in positions:
                    return _Argument(positions[id(obj)])
                if obj.grad_fn is not None and not tracer.backward_ran:
                    raise _NotReplayable("a result needs its graph for a backward outside the "
                                         "compiled function")
                return _Result(output_of(obj._data, "a result"), obj._backend)
            if type(obj) in (tuple, list):
                return type(obj)(shape_of(item) for item in obj)
            if type(obj) is dict:
                return {name: shape_of(item) for name, item in obj.items()}
            return obj

        entry.result = shape_of(result)
        program = Program(tracer.steps, tracer.inputs, outputs, tracer.constants)
        counters["stats"]["unique_graphs"] += 1
        counters["stats"]["calls_captured"] += sum(1 for step in tracer.steps
                                                   if step.name != "guard")
        for vid in sorted(tracer.restore):
            position = tracer.inputs.index(vid)
            backend = everything[entry.inputs[position].index]._backend
            program.restore.append((position, backend))
        program.reseed = list(tracer.reseed)
        program.meta = {vid: (tuple(value.shape), value.dtype)
                        for vid, value in enumerate(tracer.values) if hasattr(value, "dtype")}
        if self.options["constant_folding"]:
            passes.fold_constants(program, tracer.values)
        if self.options["dead_code_elimination"]:
            passes.eliminate_dead_code(program)
        if self.options["cross_entropy_fusion"]:
            fusion.fuse_cross_entropy(program, tracer.values)
        if self.options["product_reductions"]:
            passes.reduce_by_products(program, tracer.values)
        used = {id(step.function) for step in program.steps}
        planned = [backend for backend in backends.created_backends()
                   if any(getattr(backend, "out_argument", None) is not None
                          and backend.out_argument(step.function) for step in program.steps)]
        if self.options["buffer_planning"] and len(planned) == 1 and used:
            passes.plan_buffers(program, planned[0], tracer.values)
            if self.options["blocked_elementwise"]:
                blocking.block_elementwise(program, planned[0], tracer.values)
        program.build()
        entry.finish = _finisher(entry, len(arguments))
        entry.program = program
        if _logs.graph or _logs.output_code or _logs.fusion:
            self._log_program(program)

    def _log_program(self, program: Program) -> None:
        where = _where(self.function)
        if _logs.graph:
            _graph_log.debug("TRACED GRAPH of %s: %d steps (%d removed as dead code, %d made "
                             "constants), %d inputs, %d outputs\n%s", where, len(program.steps),
                             program.removed, program.folded, len(program.inputs),
                             len(program.outputs), program.source)
        if _logs.output_code:
            _output_code_log.debug("Output code of %s:\n%s", where, program.listing())
        if _logs.fusion:
            runs = "".join(f"\n    blocked run: {run.stop - run.start} elementwise steps over "
                           f"{run.shape}, {run.rows} rows per block" for run in program.blocks)
            _fusion_log.debug("Fusion decisions for %s: %d cross_entropy forward/gradient "
                              "pairs fused, %d elementwise runs blocked%s", where,
                              program.fused, len(program.blocks), runs)

    # ----------------------------------------------------------------------------- explain
    def explain(self) -> str:
        """Every signature's program as a listing (or why it runs eagerly)."""
        parts = []
        for number, entry in enumerate(self.cache.values()):
            program = entry.program
            if program is None:
                parts.append(f"# signature {number}: runs eagerly ({entry.reason})")
                continue
            parts.append(
                f"# signature {number}: {len(program.steps)} steps ({program.removed} removed "
                f"as dead code, {program.folded} made constants), {len(program.inputs)} inputs, "
                f"{len(program.outputs)} outputs, "
                f"{len(program.buffers)} buffers ({program.in_place} results written in place)"
                + (f", {program.fused} cross_entropy fused" if program.fused else "")
                + (f", {program.products} reductions as products with ones (not bit for bit "
                   "eager's)" if program.products else ""))
            parts.append(program.listing())
        for item in self.stats.graph_breaks:
            parts.append(f"# graph break: {item!r}")
        stats = self.stats
        parts.append(f"# traces {stats.traces}, replays {stats.replays}, eager calls "
                     f"{stats.eager_calls}, graph breaks {len(stats.graph_breaks)}")
        return "\n".join(parts)


class OptimizedModule(Module):
    """What `compile(module)` returns: a Module (it fits in a ModuleList, trains, saves) whose
    calls run the original module, `_orig_mod`, through its compiled function. Its state_dict
    keys are the original's under `_orig_mod.`; attributes it lacks are read from the original,
    as PyTorch's OptimizedModule does."""

    def __init__(self, module: Module, compiled: CompiledFunction) -> None:
        super().__init__()
        self._orig_mod = module
        self._compiled = compiled

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "_orig_mod":
                raise
            return getattr(self._orig_mod, name)

    @property
    def stats(self) -> CompileStats:
        return self._compiled.stats

    def explain(self) -> str:
        return self._compiled.explain()


def _code_of(function: Any) -> Any:
    return getattr(function, "__code__", None) or getattr(
        getattr(function, "forward", None), "__code__", None)


def _where(function: Any) -> str:
    code = _code_of(function)
    return (f"'{code.co_name}' ({code.co_filename}:{code.co_firstlineno})"
            if code is not None else repr(function))


_KEY_PARTS = ("the arguments (their types, shapes, dtypes, devices or requires_grad, or a "
              "plain argument's value)",
              "the state the function reaches (parameters, gradients, optimizer state and "
              "hyperparameters, modules' flags and plain attributes)",
              "the autocast state",
              "a number or string the function reads from its closure or globals")


def _what_changed(previous: tuple[Any, ...], key: tuple[Any, ...]) -> str:
    """Which parts of a signature differ from the last one traced."""
    changed = [part for part, old, new in zip(_KEY_PARTS, previous, key, strict=True)
               if old != new]
    return "; ".join(changed) or "a new signature"


_NOTHING = guards.Reach()
_RECENT = 8  # signatures whose checks a call tries before computing its signature


class _NotReplayable(Exception):
    pass


def _count(name: str, stats: CompileStats) -> None:
    setattr(stats, name, getattr(stats, name) + 1)
    setattr(STATS, name, getattr(STATS, name) + 1)


def _unfinished(results: Any, arguments: list[Tensor]) -> Any:
    raise RuntimeError("the program was not built")


def _inputs_of(entry: Entry, state: list[Tensor]) -> list[Any]:
    """The program's input arrays, read from the argument and state Tensors."""
    inputs = []
    for source in entry.inputs:
        tensor = state[source.index]
        if source.grad:
            grad = tensor._grad
            inputs.append(grad._data if grad is not None else None)
        else:
            inputs.append(tensor._data)
    return inputs


def _replay(entry: Entry, program: Program, arguments: list[Tensor], inputs: list[Any]) -> Any:
    if program.restore or program.reseed:
        results = _run_restoring(program, inputs)
    else:
        results = program.run(inputs)
    return entry.finish(results, arguments)


def _finisher(entry: Entry, arguments_count: int) -> Callable[[Any, list[Tensor]], Any]:
    """What a replay does after its program ran, as one generated function of the program's
    results and the argument Tensors: the effects on the state (new arrays, `.grad`s set or
    cleared, version counters moved, as the traced call left them) and the call's results."""
    namespace: dict[str, Any] = {"wrap": _wrap}

    def constant(obj: Any) -> str:
        name = f"k{len(namespace)}"
        namespace[name] = obj
        return name

    def tensor(index: int) -> str:
        if index < arguments_count:
            return f"arguments[{index}]"
        return constant(entry.state[index - arguments_count])

    lines = ["def finish(results, arguments):"]
    for effect in entry.effects:
        target = tensor(effect.index)
        backend = constant(entry.state[effect.index - arguments_count]._backend
                           if effect.index >= arguments_count else None)
        if effect.data is not None:
            lines.append(f"    {target}._data = results[{effect.data}]")
        if effect.set_grad:
            if effect.grad is None:
                lines.append(f"    {target}._grad = None")
            elif effect.index < arguments_count:
                lines.append(f"    {target}._grad = wrap(results[{effect.grad}], "
                             f"{target}._backend)")
            else:
                lines.append(f"    {target}._grad = wrap(results[{effect.grad}], {backend})")
        # (the counter list read directly where the tensor has one: a call less per tensor)
        if effect.version:
            lines.append(f"    ({target}._version_counter or "
                         f"{target}._shared_version_counter())[0] += {effect.version}")
        if effect.grad_version:
            lines.append(f"    if {target}._grad is not None:")
            lines.append(f"        ({target}._grad._version_counter or "
                         f"{target}._grad._shared_version_counter())[0] += {effect.grad_version}")

    def expression(shape: Any) -> str:
        kind = type(shape)
        if kind is _Result:
            return f"wrap(results[{shape.position}], {constant(shape.backend)})"
        if kind is _Argument:
            return f"arguments[{shape.index}]"
        if kind is tuple:
            items = "".join(f"{expression(item)}, " for item in shape)
            return f"({items})"
        if kind is list:
            return "[" + ", ".join(expression(item) for item in shape) + "]"
        if kind is dict:
            return "{" + ", ".join(f"{constant(name)}: {expression(item)}"
                                   for name, item in shape.items()) + "}"
        if shape is None or kind in (bool, int):
            return repr(shape)
        return constant(shape)  # a state Tensor, or a Python value the trace returned

    lines.append(f"    return {expression(entry.result)}")
    exec(builtins.compile("\n".join(lines), "<autodiff.compile finish>", "exec"), namespace)
    finish: Callable[[Any, list[Tensor]], Any] = namespace["finish"]
    return finish


def _run_restoring(program: Program, inputs: list[Any]) -> tuple[Any, ...]:
    """Run a program with a guard after a write: if the guard fails, the arrays written and
    the generators drawn from before it are put back, so the eager call starts from the same
    state."""
    saved = [(inputs[position], backend, backend.asarray(inputs[position], copy=True))
             for position, backend in program.restore]
    states = [generator.get_state() for generator in program.reseed]
    try:
        return program.run(inputs)
    except tracing.GuardFailed:
        for array, backend, copy in saved:
            backend.setitem(array, (...,), copy)
        for generator, state in zip(program.reseed, states):
            generator.set_state(state)
        raise


def _unwrap_all(tensors: list[Tensor], result: Any) -> None:
    """Proxies an update rule left in Tensors go back to plain arrays."""
    stack = [*tensors, result]
    while stack:
        obj = stack.pop()
        if isinstance(obj, Tensor):
            obj._data = tracing.real(obj._data)
            if obj._grad is not None:
                obj._grad._data = tracing.real(obj._grad._data)
        elif type(obj) in (tuple, list):
            stack.extend(obj)
        elif type(obj) is dict:
            stack.extend(obj.values())


def compile(model: Callable[..., Any] | None = None, *, fullgraph: bool = False,
            dynamic: bool | None = None, backend: str = "inductor", mode: str | None = None,
            options: dict[str, bool] | None = None, disable: bool = False) -> Any:
    """Trace `model` (a function or Module) once per input signature into a flat program of
    backend calls and replay it afterwards (see `autodiff/compiler/compiled.py`). Usable as
    `@compile` and `@compile(fullgraph=True)`. `options`: {"constant_folding": bool,
    "dead_code_elimination": bool, "buffer_planning": bool, "kernel_operations": bool (record
    a kernel the backend runs as Python as its array operations), "blocked_elementwise": bool
    (with buffer planning: replay runs of elementwise steps on large arrays block of rows by
    block, in cache), "cross_entropy_fusion": bool (log_softmax and nll_loss, and their
    gradient, as one step each), "product_reductions": bool (NumPy's float sums and means of
    a whole array, or of a matrix along one axis, as BLAS products with ones: about twice as
    fast, but the additions in another order, so within float rounding of eager's results,
    not bit for bit)}. All but "product_reductions" are on by default and keep eager's op
    order: on the CPU a replay gives eager's results bit for bit. "product_reductions" is off
    by default for that reason (it buys 2 to 6% of a small training step; see
    docs/compile.md)."""
    if dynamic:
        raise ValueError("autodiff.compile: dynamic=True is not supported (each new shape "
                         "traces a program of its own, as dynamic=False does)")
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: default, "
                           "reduce-overhead, max-autotune, max-autotune-no-cudagraphs")
    if backend not in ("inductor", "eager", "aot_eager"):
        raise ValueError(f"autodiff.compile: backend={backend!r} is not supported (only "
                         "'inductor', the default, 'eager' and 'aot_eager')")
    chosen = dict(OPTIONS)
    for name, value in (options or {}).items():
        if name not in OPTIONS:
            raise RuntimeError(f"Unexpected optimization option {name}, known options are "
                               f"{sorted(OPTIONS)}")
        chosen[name] = bool(value)

    def wrap(function: Callable[..., Any]) -> Any:
        # "aot_eager", PyTorch's debugging backend, compiles no kernels: eager here
        if disable or backend in ("eager", "aot_eager"):
            return function
        compiled = CompiledFunction(function, fullgraph, chosen)
        if isinstance(function, Module):
            return OptimizedModule(function, compiled)
        return compiled

    if model is None:
        return wrap
    return wrap(model)


def compile_stats() -> dict[str, Any]:
    """Counts over every compiled function: traces, replays, eager calls, graph breaks (with
    each one's reason and line)."""
    return STATS.as_dict()


def reset_compile_stats() -> None:
    STATS.reset()
