"""The profiler: ranges for every op's forward and every backward node, named as PyTorch's
profiler names them; self and total times; shapes, memory and stacks; PyTorch's table layout,
key_averages, Chrome traces; torch.profiler's schedule."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

import autodiff
from autodiff.autograd import profiler as autograd_profiler
from autodiff.profiler import (
    ProfilerAction,
    profile,
    record_function,
    schedule,
)
from autodiff.profiling import profiler_state


def _model(lib: Any, device: str = "cpu") -> tuple[Any, Any, Any]:
    generator = autodiff.Generator().manual_seed(0)
    x = autodiff.randn(4, 3, generator=generator).tolist()
    w = autodiff.randn(3, 5, generator=generator).tolist()
    kwargs = {"device": device} if lib is autodiff else {}
    return (lib.tensor(x, requires_grad=True, **kwargs), lib.tensor(w, requires_grad=True,
                                                                    **kwargs), lib)


def _run(lib: Any, device: str = "cpu", **options: Any) -> Any:
    x, w, _ = _model(lib, device)
    with lib.profiler.profile(**options) as prof:
        with lib.profiler.record_function("model"):
            y = (x @ w).relu().sum()
        y.backward()
    return prof


def _names(prof: Any) -> list[str]:
    return [event.name for event in prof.events()]


def test_forward_and_backward_ranges_are_named_as_torch(device: str) -> None:
    names = _names(_run(autodiff, device))
    for name in ["model", "aten::mm", "aten::relu", "aten::sum",
                 "autograd::engine::evaluate_function: SumBackward0", "SumBackward0",
                 "autograd::engine::evaluate_function: ReluBackward0", "ReluBackward0",
                 "autograd::engine::evaluate_function: MmBackward0", "MmBackward0",
                 "torch::autograd::AccumulateGrad"]:
        assert name in names
    torch = pytest.importorskip("torch")
    torch_names = _names(_run(torch))
    backward = {name for name in torch_names if name.startswith("autograd::engine")}
    assert {name for name in names if name.startswith("autograd::engine")} == backward


def test_nesting_and_self_time(device: str) -> None:
    events = _run(autodiff, device).events()
    model = next(event for event in events if event.name == "model")
    children = {child.name for child in model.cpu_children}
    assert children == {"aten::mm", "aten::relu", "aten::sum"}
    for event in events:
        inside = sum(child.cpu_time_total for child in event.cpu_children)
        assert event.self_cpu_time_total == pytest.approx(event.cpu_time_total - inside)
        assert event.self_cpu_time_total >= 0
        for child in event.cpu_children:
            assert child.cpu_parent is event
            assert event.time_range.start <= child.time_range.start
            assert child.time_range.end <= event.time_range.end
    # A backward node's own range sits inside its evaluation, and the ops its backward runs
    # inside it (MmBackward0 runs two matrix products).
    mm_backward = next(event for event in events if event.name == "MmBackward0")
    assert mm_backward.cpu_parent.name == "autograd::engine::evaluate_function: MmBackward0"
    assert [child.name for child in mm_backward.cpu_children].count("aten::mm") == 2


def test_sequence_numbers_link_forward_and_backward() -> None:
    events = _run(autodiff).events()
    forward = next(event for event in events if event.name == "aten::relu")
    backward = next(event for event in events if event.name == "ReluBackward0")
    assert forward.sequence_nr == backward.sequence_nr >= 0


def _first_shapes(prof: Any) -> dict[str, Any]:
    shapes: dict[str, Any] = {}
    for event in prof.events():
        shapes.setdefault(event.name, event.input_shapes)
    return shapes


def test_record_shapes_as_torch() -> None:
    shapes = _first_shapes(_run(autodiff, record_shapes=True))
    assert shapes["aten::mm"] == [[4, 3], [3, 5]]
    assert shapes["aten::relu"] == [[4, 5]]
    assert shapes["ReluBackward0"] == [[4, 5]]
    torch = pytest.importorskip("torch")
    torch_shapes = _first_shapes(_run(torch, record_shapes=True))
    assert torch_shapes["aten::relu"] == shapes["aten::relu"]
    assert torch_shapes["ReluBackward0"] == shapes["ReluBackward0"]
    assert torch_shapes["aten::mm"] == shapes["aten::mm"]


def test_no_shapes_unless_asked() -> None:
    assert all(event.input_shapes == [] for event in _run(autodiff).events())


def test_profile_memory_counts_outputs_and_releases(device: str) -> None:
    x = autodiff.ones(256, dtype=autodiff.float32, device=device)
    with profile(profile_memory=True) as prof:
        y = x * 2  # 1 KiB
        with record_function("drop"):
            del y  # released inside "drop"
        z = x + 1
    averages = {event.key: event for event in prof.key_averages()}
    # Memory off the CPU is device memory, as a CUDA tensor's is in PyTorch's profiler.
    on_cpu = device == "cpu"
    own, total = (("self_cpu_memory_usage", "cpu_memory_usage") if on_cpu else
                  ("self_device_memory_usage", "device_memory_usage"))
    other = "self_device_memory_usage" if on_cpu else "self_cpu_memory_usage"
    assert getattr(averages["aten::mul"], own) == 1024
    assert getattr(averages["aten::mul"], other) == 0
    assert getattr(averages["drop"], own) == -1024
    assert getattr(averages["aten::add"], total) == 1024
    assert z.shape == (256,)
    torch = pytest.importorskip("torch")
    tx = torch.ones(256)
    with torch.profiler.profile(profile_memory=True) as torch_prof:
        ty = tx * 2
        with torch.profiler.record_function("drop"):
            del ty
    torch_averages = {event.key: event for event in torch_prof.key_averages()}
    # (PyTorch's mul wraps the 2 in a 4-byte tensor of its own: compare the totals.)
    assert torch_averages["aten::mul"].cpu_memory_usage == 1024
    assert torch_averages["drop"].self_cpu_memory_usage == -1024


def test_memory_freed_by_backward_is_negative() -> None:
    events = _run(autodiff, profile_memory=True).key_averages()
    relu_evaluation = next(event for event in events
                           if event.key == "autograd::engine::evaluate_function: ReluBackward0")
    # ReluBackward0 frees its saved output (80 bytes) and the mm output's gradient is new.
    assert relu_evaluation.cpu_memory_usage <= 0 or relu_evaluation.self_cpu_memory_usage < 0


def _header_and_widths(table: str) -> tuple[list[str], list[int]]:
    lines = table.splitlines()
    separator = lines[0]
    widths = [len(group) for group in separator.split()]
    header = [column.strip() for column in _split_columns(lines[1], widths)]
    return header, widths


def _split_columns(line: str, widths: list[int]) -> list[str]:
    columns, position = [], 0
    for width in widths:
        columns.append(line[position:position + width])
        position += width + 2
    return columns


@pytest.mark.parametrize("options", [{}, {"record_shapes": True}, {"profile_memory": True},
                                     {"record_shapes": True, "profile_memory": True}])
def test_table_layout_as_torch(options: dict[str, Any]) -> None:
    # Input shapes are shown when grouped by them (key_averages drops them otherwise, as
    # PyTorch's does).
    grouped = bool(options.get("record_shapes"))
    table = _run(autodiff, **options).key_averages(grouped).table(sort_by="self_cpu_time_total")
    header, widths = _header_and_widths(table)
    expected = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if options.get("profile_memory"):
        expected += ["CPU Mem", "Self CPU Mem"]
    expected.append("# of Calls")
    if options.get("record_shapes"):
        expected.append("Input Shapes")
    assert header == expected
    assert widths[0] == 55  # the longest name is cut at PyTorch's maximum
    assert set(widths[1:len(expected) - bool(options.get("record_shapes"))]) == {12}
    lines = table.splitlines()
    assert lines[2] == lines[0] and lines[-2] == lines[0]
    assert lines[-1].startswith("Self CPU time total: ")
    # Rows sorted by self time, largest first; the name column is right-aligned.
    rows = lines[3:-2]
    assert all(len(row) == len(lines[0]) for row in rows)
    torch = pytest.importorskip("torch")
    torch_table = _run(torch, **options).key_averages(grouped).table(
        sort_by="self_cpu_time_total")
    torch_header, torch_widths = _header_and_widths(torch_table)
    assert torch_header == header
    assert torch_widths[:-1] == widths[:-1] if options.get("record_shapes") else \
        torch_widths == widths


def test_table_values() -> None:
    prof = _run(autodiff, profile_memory=True)
    averages = prof.key_averages()
    table = averages.table(sort_by="cpu_time_total", row_limit=3, time_unit="us")
    rows = table.splitlines()[3:-2]
    assert len(rows) == 3
    first = max(averages, key=lambda event: event.cpu_time_total)
    assert rows[0].split()[0] == first.key.split()[0]
    assert f"{first.cpu_time_total:.3f}us" in rows[0]
    total = sum(event.self_cpu_time_total for event in averages)
    assert table.splitlines()[-1] == f"Self CPU time total: {total:.3f}us"
    mm = next(event for event in averages if event.key == "aten::mm")
    assert mm.count == 3  # one forward, two in MmBackward0


def test_short_names_fit_the_name_column() -> None:
    x = autodiff.ones(3, requires_grad=False)
    with autograd_profiler.profile() as prof:
        (x * 2).sum()
    table = prof.key_averages().table()
    separator = table.splitlines()[0]
    assert len(separator.split()[0]) == len("aten::mul") + 4


def test_group_by_input_shape() -> None:
    x = autodiff.ones(2, 3)
    with profile(record_shapes=True) as prof:
        x * 2
        x * 3
        x.sum(0) * 2
    plain = {event.key: event.count for event in prof.key_averages()}
    assert plain["aten::mul"] == 3
    grouped = [(event.key, event.input_shapes, event.count)
               for event in prof.key_averages(group_by_input_shape=True)
               if event.key == "aten::mul"]
    assert grouped == [("aten::mul", [[2, 3], []], 2), ("aten::mul", [[3], []], 1)]


def test_with_stack_points_at_user_code() -> None:
    x = autodiff.ones(2)
    with profile(with_stack=True) as prof:
        x.exp()  # this line
    event = next(event for event in prof.events() if event.name == "aten::exp")
    assert "test_profiler.py" in event.stack[0] and "test_with_stack" in event.stack[0]
    assert "Source Location" in prof.key_averages(group_by_stack_n=2).table()


def test_chrome_trace(tmp_path: Any) -> None:
    prof = _run(autodiff, record_shapes=True, profile_memory=True)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    complete = [event for event in trace["traceEvents"] if event["ph"] == "X"]
    assert {event["name"] for event in complete} >= {"model", "aten::mm", "MmBackward0"}
    model = next(event for event in complete if event["name"] == "model")
    assert model["cat"] == "user_annotation"
    mm = next(event for event in complete if event["name"] == "aten::mm")
    assert mm["cat"] == "cpu_op"
    assert mm["args"]["Input Dims"] == [[4, 3], [3, 5]]
    assert mm["args"]["Input type"] == ["float", "float"]
    assert model["ts"] <= mm["ts"] and mm["ts"] + mm["dur"] <= model["ts"] + model["dur"]
    memory = [event for event in trace["traceEvents"] if event["ph"] == "i"]
    assert memory and all(event["name"] == "[memory]" for event in memory)
    assert memory[0]["args"]["Bytes"] > 0


def test_record_function_decorator_and_outside_a_profile() -> None:
    @record_function("step")
    def step(x: Any) -> Any:
        return x + 1

    assert step(autodiff.ones(1)).item() == 2.0  # no profiler: runs, records nothing
    with profile() as prof:
        step(autodiff.ones(1))
    step_event = next(event for event in prof.events() if event.name == "step")
    assert [child.name for child in step_event.cpu_children] == ["aten::add"]


def test_custom_function_is_named_by_its_class() -> None:
    class Double(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return grad * 2

    x = autodiff.ones(2, requires_grad=True)
    with profile() as prof:
        Double.apply(x).sum().backward()
    events = {event.name: event for event in prof.events()}
    assert [child.name for child in events["Double"].cpu_children] == ["aten::mul"]
    assert "autograd::engine::evaluate_function: DoubleBackward" in events


def test_other_threads_are_recorded() -> None:
    x = autodiff.ones(2)
    with profile() as prof:
        worker = threading.Thread(target=lambda: x.exp())
        worker.start()
        worker.join()
        x.log()
    threads = {event.name: event.thread for event in prof.events()}
    assert threads["aten::exp"] != threads["aten::log"]


def test_results_need_the_profile_to_finish() -> None:
    with profile() as prof, pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        prof.key_averages()


def test_one_profile_at_a_time() -> None:
    with profile(), pytest.raises(RuntimeError, match="already enabled"), profile():
        pass
    assert not profiler_state.active


def test_off_after_an_error_in_backward() -> None:
    x = autodiff.ones(2, requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    with profile() as prof:
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()
        (x * 3).sum()
    assert not profiler_state.active
    assert all(event.time_range.end >= event.time_range.start for event in prof.events())
    # The next op is a top-level range again: nothing was left open.
    assert next(e for e in prof.events() if e.name == "aten::mul").cpu_parent is None


def test_schedule_as_torch() -> None:
    ours = schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    actions = [ours(step).name for step in range(12)]
    assert actions == ["NONE", "NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE", "NONE", "WARMUP",
                       "RECORD", "RECORD_AND_SAVE", "NONE", "NONE", "NONE"]
    torch = pytest.importorskip("torch")
    theirs = torch.profiler.schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    assert actions == [theirs(step).name for step in range(12)]
    assert ProfilerAction.RECORD_AND_SAVE.name == "RECORD_AND_SAVE"


def test_schedule_steps_and_trace_ready(tmp_path: Any) -> None:
    x = autodiff.ones(2)
    cycles: list[list[str]] = []

    def ready(prof: Any) -> None:
        cycles.append([event.name for event in prof.events() if event.cpu_parent is None])

    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=1),
                 on_trace_ready=ready) as prof:
        for step in range(6):
            x * step
            prof.step()
    assert cycles == [["ProfilerStep#2", "ProfilerStep#3"]]
    kept = [event.name for event in prof.events()]
    assert kept.count("aten::mul") == 2


def test_tensorboard_trace_handler(tmp_path: Any) -> None:
    x = autodiff.ones(2)
    handler = autodiff.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w")
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=1),
                 on_trace_ready=handler) as prof:
        for _ in range(3):
            x.exp()
            prof.step()
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("w.")
    assert files[0].name.endswith(".pt.trace.json")
    trace = json.loads(files[0].read_text())
    assert any(event.get("name") == "aten::exp" for event in trace["traceEvents"])


def test_record_function_as_operators() -> None:
    """torch.ops.profiler._record_function_enter / _exit: record_function's range as two
    operator calls, which an fx graph can hold (pytorch/examples' fx/profiling_tracer)."""
    enter = autodiff.ops.profiler._record_function_enter
    exit_ = autodiff.ops.profiler._record_function_exit
    with autograd_profiler.profile() as prof:
        handle = enter("outer")
        autodiff.relu(autodiff.ones(2))
        exit_(handle)
    names = [event.name for event in prof.function_events]
    assert "outer" in names and "aten::relu" in names
    exit_(enter("unrecorded"))  # no profiler: nothing to close
    assert str(enter) == "profiler._record_function_enter"
    with pytest.raises(ValueError, match="ranges carry no arguments"):
        enter("x", "args")
