"""PyTorch's own tutorials and examples, shrunk to run offline, run with `import autodiff as torch`.

Each program in `programs/` is a PyTorch tutorial or example as a user meets it, changed only
where it must be (the import, synthetic or scikit-learn data instead of downloads, a few
iterations) and ending with assertions that it did what it should. Each runs in a subprocess
(`_runner.py`) with a timeout, in a temporary working folder; the selected programs are all
queued at once on a pool as wide as the machine.

A program that stops today on a missing feature is an xfail, strict, whose reason names the
feature and whose `error` is the text the program stops with: when the feature lands the
program passes and the strict xfail fails, so the marker must go; when the program stops
somewhere else, that is a failure too, so the marker always names the first missing feature.

Where PyTorch is installed the same text runs on it too (`_runner.py` makes `autodiff` mean
`torch`), which shows the shrunk program itself is right: programs whose numbers do not depend
on the random stream do so in every run and compare their `CHECK name value` lines with
PyTorch's; AUTODIFF_USER_PROGRAMS_TORCH=all runs every program on PyTorch (a minute more), =0
none. `python tests/user_programs/test_user_programs.py [autodiff|torch]` prints where each
program stops today, without the markers.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TIMEOUT_S = 120  # per program; the slowest takes a few seconds on an idle machine


@dataclass(frozen=True)
class Stop:
    """Where a program stops today: the missing feature, and the text of the error it raises."""

    feature: str
    error: str


@dataclass(frozen=True)
class Program:
    name: str
    stop: Stop | None = None
    compare: bool = False  # its CHECK lines are the same numbers under PyTorch
    file: str = ""  # the program's file, without .py, when it differs from the name
    argv: tuple[str, ...] = ()  # its command-line arguments
    # False where the program spawns processes: they import `autodiff` afresh, out of reach of
    # the runner's alias, so the text cannot run on PyTorch as it stands.
    aliasable: bool = True
    # Modules PyTorch needs for the program that autodiff does not (torch.onnx's exporter needs
    # onnxscript): without them its run on PyTorch is skipped.
    torch_needs: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return HERE / "programs" / f"{self.file or self.name}.py"


# What stops a program is a `Stop(feature, error)` constant here, named for the missing feature:
# the error is the text the program stops with (the last line of its traceback must contain it).
SCRIPTED_LOOP_GRAPH = Stop(
    "the graph of a scripted module whose forward loops over an int argument (autodiff.jit runs "
    "scripted code as Python, and an autodiff.fx graph cannot hold the loop)",
    "RuntimeError: 'GreedySearchDecoder' has no graph")

PROGRAMS = [
    # pytorch/tutorials, beginner_source/basics
    Program("basics_tensorqs", compare=True),
    Program("basics_autogradqs", compare=True),
    Program("basics_buildmodel"),
    Program("basics_quickstart"),
    Program("basics_optimization"),
    Program("basics_saveloadrun"),
    # beginner_source/introyt, blitz, nn_tutorial
    Program("introyt_tensors_deeper", compare=True),
    Program("introyt_autograd", compare=True),
    Program("introyt_models", compare=True),
    Program("introyt_training"),
    Program("blitz_tensor_tutorial", compare=True),
    Program("blitz_autograd"),
    Program("blitz_neural_networks"),
    Program("blitz_cifar10"),
    Program("data_parallel_tutorial", compare=True),
    Program("nn_tutorial"),
    # beginner_source/examples_*: Learning PyTorch with Examples
    Program("polynomial_tensor"),
    Program("polynomial_autograd"),
    Program("polynomial_custom_function", compare=True),
    Program("polynomial_nn"),
    Program("polynomial_optim"),
    Program("polynomial_module"),
    Program("dynamic_net"),
    # intermediate_source
    Program("char_rnn_classification"),
    Program("char_rnn_generation"),
    Program("seq2seq_translation"),
    Program("per_sample_grads"),
    Program("ensembling"),
    Program("neural_tangent_kernels"),
    Program("jacobians_hessians"),
    Program("forward_ad_usage"),
    Program("spatial_transformer", compare=True),
    Program("saved_tensors_hooks", compare=True),
    Program("custom_function_double_backward", compare=True),
    Program("custom_function_conv_bn", compare=True),
    Program("parametrizations", compare=True),
    Program("optimizer_step_in_backward"),
    Program("pruning", compare=True),
    Program("scaled_dot_product_attention", compare=True),
    Program("memory_format"),
    Program("control_flow_operators"),
    Program("transformer_building_blocks"),
    Program("torch_compile_tutorial"),
    Program("torch_compile_full_example"),
    Program("torch_export_tutorial", compare=True),
    Program("compiled_autograd_tutorial", compare=True),
    Program("fgsm"),
    Program("reinforcement_q_learning"),
    Program("fx_conv_bn_fuser", compare=True),
    Program("fx_profiling"),
    Program("imbalanced_data"),
    # beginner_source
    Program("knowledge_distillation"),
    Program("chatbot"),
    Program("deploy_seq2seq_hybrid_frontend", stop=SCRIPTED_LOOP_GRAPH),
    Program("data_loading"),
    Program("text_sentiment_ngrams"),
    Program("maskedtensor_adagrad", compare=True),
    Program("intro_to_torchscript", compare=True),
    Program("autoencoders"),
    Program("linear_regression", compare=True),
    Program("math_behind_training", compare=True),
    Program("nn_for_torch_users"),
    Program("translation_transformer"),
    # beginner_source/nlp
    Program("nlp_deep_learning"),
    Program("nlp_word_embeddings"),
    Program("nlp_sequence_models"),
    Program("nlp_bilstm_crf"),
    # beginner_source/former_torchies
    Program("former_torchies_tensor", compare=True),
    Program("former_torchies_autograd", compare=True),
    Program("former_torchies_nnft", compare=True),
    # recipes_source/recipes
    Program("recipe_defining_a_neural_network"),
    Program("recipe_what_is_state_dict"),
    Program("recipe_saving_loading_inference"),
    Program("recipe_warmstarting"),
    Program("recipe_module_load_state_dict_tips"),
    Program("recipe_reasoning_about_shapes"),
    Program("recipe_changing_default_device"),
    Program("recipe_timer_quick_start"),
    Program("recipe_profiler"),
    Program("recipe_swap_tensors"),
    Program("recipe_general_checkpoint"),
    Program("recipe_zeroing_out_gradients"),
    Program("recipe_amp"),
    Program("recipe_benchmark"),
    Program("recipe_dynamic_quantization"),
    Program("saving_multiple_models"),
    Program("save_load_across_devices"),
    Program("distributed_checkpoint_recipe", compare=True),
    Program("distributed_async_checkpoint_recipe", compare=True),
    Program("tuning_guide"),  # not compared: it compiles (inductor takes a while on PyTorch)
    # recipes_source
    Program("recipe_inspecting_model_parameters", compare=True),
    # torch.compile's recipes: not compared (inductor compiles for a minute on PyTorch)
    Program("compiling_optimizer"),
    Program("compiler_set_stance"),
    Program("regional_compilation"),
    Program("recipe_torch_logs"),
    Program("torch_function_modes_compile"),
    Program("foreach_map"),
    Program("compiling_optimizer_lr_scheduler"),
    # pytorch/examples
    Program("mnist"),
    Program("mnist_rnn"),
    Program("mnist_hogwild", aliasable=False),
    Program("mnist_forward_forward"),
    Program("vae"),
    Program("word_language_model"),
    Program("word_language_model_transformer", file="word_language_model",
            argv=("--model", "Transformer", "--use-optimizer", "--lr", "0.005")),
    Program("reinforce"),
    Program("actor_critic"),
    Program("regression"),
    Program("time_sequence_prediction"),
    Program("siamese_network"),
    Program("super_resolution"),
    Program("dcgan"),
    Program("fast_neural_style"),
    Program("gcn"),
    Program("gat"),
    Program("language_translation"),
    Program("imagenet"),
    # pytorch/examples, fx
    Program("fx_invert"),
    Program("fx_custom_tracer"),
    Program("fx_replace_op"),
    Program("fx_subgraph_rewriter"),
    Program("fx_proxy_graph_creation"),
    Program("fx_inline_function"),
    Program("fx_wrap_output_dynamically"),
    Program("fx_module_tracer"),
    Program("fx_primitive_library"),
    Program("fx_profiling_tracer"),
    Program("mingpt"),
    # pytorch/tutorials, prototype_source
    Program("torchscript_freezing", compare=True),
    Program("maskedtensor_overview", compare=True),
    Program("maskedtensor_sparsity", compare=True),
    Program("maskedtensor_advanced_semantics", compare=True),
    Program("vmap_recipe"),
    Program("nestedtensor"),  # not compared: it compiles (inductor takes a minute on PyTorch)
    # beginner_source/onnx
    Program("onnx_export_simple_model", compare=True, torch_needs=("onnxscript",)),
    Program("onnx_export_control_flow", compare=True, torch_needs=("onnxscript",)),
    # advanced_source
    Program("super_resolution_onnxruntime", torch_needs=("onnxscript",)),
    # pytorch/tutorials, advanced_source
    Program("numpy_extensions", compare=True),
    Program("python_custom_ops", compare=True),
    Program("python_custom_ops_functional", compare=True),
    Program("python_custom_ops_mutable", compare=True),
    Program("python_custom_ops_registrations", compare=True),
    Program("neural_style", compare=True),
    Program("dynamic_quantization_lstm"),
    Program("visualizing_gradients", compare=True),
    # pytorch/pytorch, docs/source/notes
    Program("notes_extending", compare=True),
    Program("notes_autograd", compare=True),
    Program("notes_modules", compare=True),
    Program("notes_serialization", compare=True),
    Program("notes_extending_func", compare=True),
    Program("notes_broadcasting", compare=True),
    Program("docs_api_examples", compare=True),
    Program("notes_amp", compare=True),
    Program("notes_randomness"),
    Program("notes_gradcheck", compare=True),
    Program("notes_numerical_accuracy_faq", compare=True),
]


class ProgramStopped(Exception):
    """The program stopped where its xfail says it does."""


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool

    @property
    def error(self) -> str:
        """The traceback's last line: the exception the program stopped with."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {self.returncode}"

    def checks(self) -> dict[str, float]:
        found = {}
        for line in self.stdout.splitlines():
            if line.startswith("CHECK "):
                _, name, value = line.split()
                found[name] = float(value)
        return found

    def describe(self) -> str:
        return (f"exit status {self.returncode}\n--- stdout (tail) ---\n{self.stdout[-3000:]}"
                f"\n--- stderr (tail) ---\n{self.stderr[-6000:]}")


def torch_run_skipped(program: Program) -> str | None:
    """Why `program` does not run on PyTorch in this session, or None when it does."""
    wanted = os.environ.get("AUTODIFF_USER_PROGRAMS_TORCH", "compared")
    if importlib.util.find_spec("torch") is None:
        return "PyTorch is not installed"
    if wanted == "0":
        return "AUTODIFF_USER_PROGRAMS_TORCH=0"
    if not program.aliasable:
        return "its spawned processes import autodiff itself, not the runner's alias of torch"
    missing = [name for name in program.torch_needs if importlib.util.find_spec(name) is None]
    if missing:
        return f"PyTorch needs {', '.join(missing)} for it, not installed"
    if wanted != "all" and not program.compare:
        return "runs on PyTorch with AUTODIFF_USER_PROGRAMS_TORCH=all"
    return None


def run_program(program: Program, library: str) -> Run:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory(prefix=f"{program.name}-{library}-") as cwd:  # its files
        try:
            done = subprocess.run(
                [sys.executable, str(HERE / "_runner.py"), str(program.path), library,
                 *program.argv],
                capture_output=True, text=True, env=env, cwd=cwd, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as expired:
            return Run(-1, _text(expired.stdout), _text(expired.stderr), timed_out=True)
    return Run(done.returncode, done.stdout, done.stderr, timed_out=False)


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


class Runs:
    """Every (program, library) run the session's selected tests need, started together."""

    def __init__(self, wanted: list[tuple[Program, str]]) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
        self.futures = {key: self.pool.submit(run_program, *key) for key in wanted}

    def get(self, program: Program, library: str) -> Run:
        key = (program, library)
        if key not in self.futures:
            self.futures[key] = self.pool.submit(run_program, program, library)
        return self.futures[key].result()


LIBRARIES = {"test_program": ("autodiff",), "test_program_under_torch": ("torch",),
             "test_program_matches_torch": ("autodiff", "torch")}


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest) -> Iterator[Runs]:
    wanted: list[tuple[Program, str]] = []
    # Under pytest-xdist each worker sees every item but runs only its share: each program then
    # starts when its test asks for it, the workers being the parallelism.
    items = [] if hasattr(request.config, "workerinput") else request.session.items
    for item in items:
        callspec = getattr(item, "callspec", None)
        function = getattr(item, "originalname", None)
        if callspec is None or function not in LIBRARIES or "program" not in callspec.params:
            continue
        program: Program = callspec.params["program"]
        for library in LIBRARIES[function]:
            if library == "torch" and torch_run_skipped(program):
                continue
            if (program, library) not in wanted:
                wanted.append((program, library))
    pool = Runs(wanted)
    yield pool
    pool.pool.shutdown(cancel_futures=True)


def _params(programs: list[Program], *, stops_apply: bool) -> list[object]:
    params = []
    for program in programs:
        marks = []
        if stops_apply and program.stop is not None:
            marks.append(pytest.mark.xfail(strict=True, raises=ProgramStopped,
                                           reason=program.stop.feature))
        params.append(pytest.param(program, marks=marks, id=program.name))
    return params


@pytest.mark.parametrize("program", _params(PROGRAMS, stops_apply=True))
def test_program(program: Program, runs: Runs) -> None:
    run = runs.get(program, "autodiff")
    if run.timed_out:
        pytest.fail(f"{program.name} ran past {TIMEOUT_S} s\n{run.describe()}")
    if run.returncode == 0:
        return
    if program.stop is not None and program.stop.error in run.error:
        raise ProgramStopped(f"{program.name} stops at {program.stop.feature}: {run.error}")
    expected = f" (its xfail expects {program.stop.error!r})" if program.stop else ""
    pytest.fail(f"{program.name} stopped{expected}: {run.error}\n{run.describe()}")


@pytest.mark.parametrize("program", _params(PROGRAMS, stops_apply=False))
def test_program_under_torch(program: Program, runs: Runs) -> None:
    """The shrunk program itself is right: it runs, assertions and all, on PyTorch."""
    reason = torch_run_skipped(program)
    if reason:
        pytest.skip(reason)
    run = runs.get(program, "torch")
    assert not run.timed_out and run.returncode == 0, run.describe()


COMPARED = [program for program in PROGRAMS if program.compare and program.stop is None]


@pytest.mark.parametrize("program", _params(COMPARED, stops_apply=False))
def test_program_matches_torch(program: Program, runs: Runs) -> None:
    """The numbers a deterministic program checks are PyTorch's."""
    reason = torch_run_skipped(program)
    if reason:
        pytest.skip(reason)
    ours, theirs = runs.get(program, "autodiff"), runs.get(program, "torch")
    assert ours.returncode == 0 and theirs.returncode == 0, ours.describe() + theirs.describe()
    expected = theirs.checks()
    assert expected and ours.checks().keys() == expected.keys()
    for name, value in ours.checks().items():
        assert math.isclose(value, expected[name], rel_tol=1e-5, abs_tol=1e-6), (
            f"{name}: autodiff {value}, torch {expected[name]}")


def main() -> None:
    """`python tests/user_programs/test_user_programs.py [torch]`: each program's status now."""
    library = sys.argv[1] if len(sys.argv) > 1 else "autodiff"
    runs = Runs([(program, library) for program in PROGRAMS])
    for program in PROGRAMS:
        run = runs.get(program, library)
        status = "passes" if run.returncode == 0 else f"stops: {run.error}"
        print(f"{program.name:34} {status}", flush=True)
    runs.pool.shutdown()


if __name__ == "__main__":
    main()
