"""The profiler's options beyond times, shapes and memory: with_flops (PyTorch's FLOP counts),
with_modules, device activity (CUDA warnings on a machine without CUDA; device timing through
the backend's timing events, exercised on strict:1), acc_events, _ExperimentalConfig, trace
metadata and export_memory_timeline."""

from __future__ import annotations

import gzip
import json
import warnings
from typing import Any

import pytest

import autodiff
from autodiff.autograd import profiler as autograd_profiler
from autodiff.profiler import (
    ProfilerActivity,
    _ExperimentalConfig,
    profile,
    schedule,
)

_NO_CUDA = not autodiff.cuda.is_available()


def _flops_program(lib: Any) -> None:
    generator = autodiff.Generator().manual_seed(0)

    def tensor(*shape: int, grad: bool = False) -> Any:
        return lib.tensor(autodiff.randn(*shape, generator=generator).tolist(),
                          requires_grad=grad)

    x, w, b = tensor(8, 16, grad=True), tensor(32, 16, grad=True), tensor(32, grad=True)
    image, kernel = tensor(2, 3, 10, 10, grad=True), tensor(4, 3, 3, 3, grad=True)
    a3, b3 = tensor(4, 5, 6), tensor(4, 6, 7)
    y = lib.nn.functional.linear(x, w, b)
    x @ x.T
    lib.mm(x, x.T)
    lib.bmm(a3, b3)
    lib.baddbmm(tensor(4, 5, 7), a3, b3)
    c = lib.nn.functional.conv2d(image, kernel, stride=2, padding=1)
    lib.nn.functional.conv2d(image, kernel, dilation=2, groups=1)
    x * 2
    x + x
    x.mul(x)
    (y.sum() + c.sum()).backward()


def _flops_by_name(prof: Any) -> dict[str, int]:
    return {event.key: event.flops for event in prof.key_averages() if event.flops > 0}


def test_flops_as_torch() -> None:
    with profile(with_flops=True) as prof:
        _flops_program(autodiff)
    ours = _flops_by_name(prof)
    # 2*M*N*K per product (forward and the two products of addmm's backward), 2*N*Ho*Wo*Co*
    # Ci*kh*kw for conv2d, one per element of the first argument for mul and add.
    assert ours == {"aten::addmm": 8192, "aten::mm": 2 * 2048 + 2 * 8192, "aten::bmm": 1680,
                    "aten::baddbmm": 1680, "aten::conv2d": 10800 + 2 * 2 * 6 * 6 * 4 * 27,
                    "aten::mul": 256, "aten::add": 129}
    counted = {event.name for event in prof.events() if event.flops > 0}
    assert "aten::convolution" not in counted  # conv2d's range counts, as PyTorch's
    torch = pytest.importorskip("torch")
    with torch.profiler.profile(with_flops=True) as torch_prof:
        _flops_program(torch)
    assert _flops_by_name(torch_prof) == ours


def _folded_products(lib: Any) -> None:
    x, w, b = lib.ones(4, 8, 16), lib.ones(32, 16), lib.ones(32)
    lib.nn.functional.linear(x, w, b)
    lib.nn.functional.linear(x, w)
    x @ w.T
    lib.ones(2, 1, 5, 6) @ lib.ones(3, 6, 7)


def _products(prof: Any) -> list[tuple[str, list[list[int]], int]]:
    return [(event.name, event.input_shapes, event.flops) for event in prof.events()
            if event.flops > 0]


def test_folded_products_are_counted_as_torch() -> None:
    # A linear or matmul over more than two dims is one node here, PyTorch's view (or
    # unsafe view) around an addmm, mm or bmm: that product shows as a range inside it, with
    # PyTorch's shapes, and carries the FLOPs.
    with profile(with_flops=True) as prof:
        _folded_products(autodiff)
    ours = _products(prof)
    assert ours == [("aten::addmm", [[32], [32, 16], [16, 32], [], []], 32768),
                    ("aten::mm", [[32, 16], [16, 32]], 32768),
                    ("aten::mm", [[32, 16], [16, 32]], 32768),
                    ("aten::bmm", [[6, 5, 6], [6, 6, 7]], 2520)]
    addmm = next(event for event in prof.events() if event.name == "aten::addmm")
    assert addmm.cpu_parent.name == "aten::view"
    torch = pytest.importorskip("torch")
    with torch.profiler.profile(with_flops=True) as torch_prof:
        _folded_products(torch)
    assert _products(torch_prof) == ours


def test_with_flops_records_shapes_and_fills_the_table() -> None:
    x = autodiff.ones(64, 64)
    with profile(with_flops=True) as prof:
        x @ x
        x.exp()
    mm = next(event for event in prof.events() if event.name == "aten::mm")
    assert mm.input_shapes == [[64, 64], [64, 64]] and mm.flops == 2 * 64**3
    table = prof.key_averages().table(sort_by="flops")
    lines = table.splitlines()
    assert lines[1].split()[-2:] == ["Total", "KFLOPs"]
    assert lines[3].split()[0] == "aten::mm" and lines[3].split()[-1] == "524.288"
    assert lines[4].split()[-1] == "--"
    assert prof.total_average().flops == 2 * 64**3
    with profile() as plain:
        x @ x
    assert "FLOPs" not in plain.key_averages().table()
    torch = pytest.importorskip("torch")
    tx = torch.ones(64, 64)
    with torch.profiler.profile(with_flops=True) as torch_prof:
        tx @ tx
    torch_header = torch_prof.key_averages().table().splitlines()[1]
    assert torch_header.split()[-2:] == ["Total", "KFLOPs"]


def test_flops_column_comes_before_the_source_location() -> None:
    x = autodiff.ones(4, 4)
    with profile(with_flops=True, with_stack=True) as prof:
        x @ x
    table = prof.key_averages(group_by_stack_n=1).table()
    header = table.splitlines()[1]
    # PyTorch heads the FLOPs column "Source Location" and the other one "Total FLOPs"
    # (its header and its rows disagree); here each header names its column.
    assert header.index("Total FLOPs") < header.index("Source Location")
    row = next(line for line in table.splitlines() if "aten::mm" in line)
    assert row.index("128.000") < row.index("test_flops_column_comes_before")


def test_conv2d_flops_need_numbers_as_torch(capfd: Any) -> None:
    image, kernel = autodiff.ones(1, 1, 5, 5), autodiff.ones(1, 1, 3, 3)
    needs_numbers = "because it requires padding, stride, and dilation values"
    with pytest.warns(UserWarning, match=needs_numbers) as record, \
            profile(with_flops=True) as prof:
        autodiff.nn.functional.conv2d(image, kernel, padding="same")
    conv = next(event for event in prof.events() if event.name == "aten::conv2d")
    assert conv.flops == 0
    message = str(record[0].message)
    with pytest.warns(UserWarning, match="both input and weight must be size 4"), \
            profile(with_flops=True):
        autodiff.nn.functional.conv2d(image[0], kernel)
    torch = pytest.importorskip("torch")
    capfd.readouterr()
    with torch.profiler.profile(with_flops=True) as torch_prof:
        torch.nn.functional.conv2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 3, 3),
                                   padding="same")
    torch_conv = next(e for e in torch_prof.events() if e.name == "aten::conv2d")
    assert torch_conv.flops == 0
    # PyTorch logs it from C++ (on stderr); here it is a Python warning.
    assert f"Warning: {message}" in capfd.readouterr().err


class _Net(autodiff.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = autodiff.nn.Linear(3, 4)
        self.second = autodiff.nn.Linear(4, 2)

    def forward(self, x: Any) -> Any:
        return self.second(self.first(x).relu())


def test_with_modules_records_module_ranges(tmp_path: Any) -> None:
    net, x = _Net(), autodiff.ones(5, 3)
    with profile(with_modules=True) as prof:
        net(x).sum()
        net.first(x)
    names = [event.name for event in prof.events() if event.name.startswith("nn.Module")]
    assert names == ["nn.Module: _Net_0", "nn.Module: Linear_0", "nn.Module: Linear_1",
                     "nn.Module: Linear_0"]
    addmm = next(event for event in prof.events() if event.name == "aten::addmm")
    assert addmm.cpu_parent.name == "nn.Module: Linear_0"
    assert addmm.cpu_parent.cpu_parent.name == "nn.Module: _Net_0"
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    assert trace["with_modules"] == 1
    modules = [event for event in trace["traceEvents"] if event.get("cat") == "python_function"]
    assert [event["args"]["Python module id"] for event in modules] == [0, 0, 1, 0]
    with profile() as plain:
        net(x)
    assert not any(event.name.startswith("nn.Module") for event in plain.events())


@pytest.mark.skipif(not _NO_CUDA, reason="checks the behaviour without a CUDA device")
def test_cuda_activity_without_cuda_as_torch_cpu_only() -> None:
    x = autodiff.ones(4, 4)
    disabling = r"^CUDA is not available, disabling CUDA profiling$"
    with pytest.warns(UserWarning, match=disabling), \
            profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        x @ x
    assert [event.name for event in prof.events()] == ["aten::mm"]
    assert "CUDA" not in prof.key_averages().table()
    assert prof.events()[0].self_device_time_total == 0
    with pytest.warns(UserWarning, match="CUDA is not available"), \
            pytest.raises(AssertionError, match=r"^No activities specified for the profiler$"), \
            profile(activities=[ProfilerActivity.CUDA]):
        pass
    with pytest.warns(FutureWarning, match="use_cuda"), \
            pytest.warns(UserWarning, match="CUDA is not available"):
        old = autograd_profiler.profile(use_cuda=True)
    assert old.use_device is None and old.use_cuda is False
    with pytest.warns(UserWarning, match="^The cpu is not a valid device option.$"):
        autograd_profiler.profile(use_device="cpu")
    assert ProfilerActivity.CUDA not in autodiff.profiler.supported_activities()
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        return
    activity = torch.profiler.ProfilerActivity
    with pytest.warns(UserWarning, match=disabling), \
            torch.profiler.profile(activities=[activity.CPU, activity.CUDA]):
        pass
    with pytest.warns(UserWarning), pytest.raises(AssertionError, match="No activities"), \
            torch.profiler.profile(activities=[activity.CUDA]):
        pass


def test_device_time_through_the_backend_events() -> None:
    # strict:1 stands where PyTorch has its PrivateUse1 device: its ops are timed between two
    # of its backend's timing events, the path CUDA events take on a GPU.
    x = autodiff.ones(32, 32, device="strict:1")
    host = autodiff.ones(32, 32)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.PrivateUse1],
                 profile_memory=True) as prof:
        with autodiff.profiler.record_function("block"):
            (x @ x).exp()
        host @ host
    events = prof.events()
    on_device = [event for event in events if event.name in ("aten::mm", "aten::exp")
                 and event.cpu_parent is not None]
    assert len(on_device) == 2
    assert all(0 < event.self_device_time_total <= event.cpu_time_total for event in on_device)
    host_mm = next(event for event in events if event.name == "aten::mm"
                   and event.cpu_parent is None)
    assert host_mm.self_device_time_total == 0
    block = next(event for event in events if event.name == "block")
    assert block.self_device_time_total == 0
    assert block.device_time_total == pytest.approx(sum(event.self_device_time_total
                                                        for event in on_device))
    assert next(e for e in events if e.name == "aten::exp").self_device_memory_usage == 4096
    table = prof.key_averages().table()
    header = table.splitlines()[1]
    for column in ["Self STRICT", "Self STRICT %", "STRICT total", "STRICT time avg",
                   "STRICT Mem", "Self STRICT Mem"]:
        assert column in header
    assert table.splitlines()[-1].startswith("Self STRICT time total: ")
    with autograd_profiler.profile(use_device="strict") as old:
        x.exp()
    assert old.function_events[0].self_device_time_total > 0


def test_acc_events_keeps_every_cycle() -> None:
    x = autodiff.ones(2)

    def run(acc_events: bool) -> list[str]:
        with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=2),
                     acc_events=acc_events) as prof:
            for step in range(5):
                x * step
                prof.step()
        return [event.name for event in prof.events() if event.cpu_parent is None]

    assert sorted(run(True)) == ["ProfilerStep#1", "ProfilerStep#3"]
    assert run(False) == ["ProfilerStep#3"]
    with autograd_profiler.profile(acc_events=True) as old:
        x.exp()
    old._start()
    x.neg()
    old._stop()
    assert sorted(event.name for event in old.events()) == ["aten::exp", "aten::neg"]


def test_experimental_config(tmp_path: Any) -> None:
    x = autodiff.ones(2)
    with profile(experimental_config=_ExperimentalConfig(trace_only=True)) as prof:
        x.exp()
    with pytest.raises(RuntimeError, match=r"^events\(\) is not available when trace_only=True "
                                           r"in ExperimentalConfig\. Use export_chrome_trace"):
        prof.events()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    assert any(event["name"] == "aten::exp" for event in json.loads(path.read_text())[
        "traceEvents"])
    with pytest.warns(UserWarning, match="trace_only=True is incompatible with with_stack"):
        stacked = profile(with_stack=True,
                          experimental_config=_ExperimentalConfig(trace_only=True))
    assert not stacked.experimental_config.trace_only
    with profile(with_stack=True,
                 experimental_config=_ExperimentalConfig(verbose=True)) as verbose:
        x.exp()  # the call
    verbose.export_chrome_trace(str(path))
    exp = next(event for event in json.loads(path.read_text())["traceEvents"]
               if event["name"] == "aten::exp")
    assert "test_experimental_config" in exp["args"]["Call stack"].split(";")[0]
    for option in [{"profiler_metrics": ["kineto__cuda_core_flops"]},
                   {"enable_cuda_sync_events": True}, {"performance_events": ["cycles"]},
                   {"disable_external_correlation": True}]:
        name = next(iter(option))
        with pytest.raises(ValueError, match=name), \
                profile(experimental_config=_ExperimentalConfig(**option)):
            pass
    torch = pytest.importorskip("torch")
    ours = autodiff.profiler._ExperimentalConfig()
    theirs = torch.profiler._ExperimentalConfig()
    assert ours.trace_only == theirs.trace_only and ours.custom_profiler_config == \
        theirs.custom_profiler_config


def test_trace_metadata(tmp_path: Any) -> None:
    x = autodiff.ones(2)
    prof = profile(with_flops=True, record_shapes=True)
    prof.preset_metadata_json("preset", "[1, 2]")
    with prof:
        x.exp()
        prof.add_metadata("quoted", 'say "hi"')
        prof.add_metadata_json("numbers", '{"a": 1}')
    path = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(path))
    with gzip.open(path, "rt") as file:
        trace = json.load(file)
    assert trace["preset"] == [1, 2]
    # PyTorch writes a quote in a value unescaped (the file is then no JSON); here it stays
    # a string.
    assert trace["quoted"] == 'say "hi"'
    assert trace["numbers"] == {"a": 1}
    assert trace["with_flops"] == 1 and trace["record_shapes"] == 1
    assert "profile_memory" not in trace
    with pytest.raises(json.JSONDecodeError):
        prof.add_metadata_json("bad", "{not json")


def test_export_memory_timeline(tmp_path: Any) -> None:
    w = autodiff.ones(64, 64, requires_grad=True)
    x = autodiff.ones(8, 64)
    options = {"record_shapes": True, "profile_memory": True, "with_stack": True}
    with profile(**options) as prof:
        (x @ w).relu().sum().backward()
    path = tmp_path / "memory.json"
    with pytest.warns(FutureWarning, match="export_memory_timeline` is deprecated"):
        prof.export_memory_timeline(str(path))
    times, sizes = json.loads(path.read_text())
    assert len(times) == len(sizes) and times == sorted(times)
    assert all(len(row) == 9 and row[0] == 0 for row in sizes)
    categories = autodiff.profiler.memory_timeline.CATEGORIES
    peak = {name: max(row[categories.index(name) + 1] for row in sizes)
            for name in ["ACTIVATION", "AUTOGRAD_DETAIL"]}
    assert peak["ACTIVATION"] >= 8 * 64 * 4  # x @ w, kept for relu's backward
    assert peak["AUTOGRAD_DETAIL"] > 0
    raw = tmp_path / "memory.raw.json.gz"
    with pytest.warns(FutureWarning):
        prof.export_memory_timeline(str(raw))
    with gzip.open(raw, "rt") as file:
        events = json.load(file)
    pytest.importorskip("matplotlib")
    html = tmp_path / "memory.html"
    with pytest.warns(FutureWarning):
        prof.export_memory_timeline(str(html))
    assert "<img src='data:image/png;base64," in html.read_text()
    assert {event[1] for event in events} == {2, 4}  # PyTorch's CREATE and DESTROY
    assert sum(event[2] for event in events) == sum(sizes[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(ValueError, match=r"^profile_memory=True, with_stack=True required "
                                             r"for memory profiling\.$"):
            with profile(record_shapes=True) as plain:
                x.exp()
            plain.export_memory_timeline(str(path))
    torch = pytest.importorskip("torch")
    tw = torch.ones(64, 64, requires_grad=True)
    with torch.profiler.profile(**options) as torch_prof:
        (torch.ones(8, 64) @ tw).relu().sum().backward()
    with pytest.warns(FutureWarning):
        torch_prof.export_memory_timeline(str(path))
    _, torch_sizes = json.loads(path.read_text())
    assert all(len(row) == 9 for row in torch_sizes)


def test_export_stacks(tmp_path: Any) -> None:
    x = autodiff.ones(64, 64, device="strict:1")
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.PrivateUse1],
                 with_stack=True) as prof:
        x @ x
    path = tmp_path / "stacks.txt"
    for metric in ("self_cpu_time_total", "self_privateuse1_time_total"):
        prof.export_stacks(str(path), metric)
        lines = path.read_text().splitlines()
        assert len(lines) == 1
        frames, value = lines[0].rsplit(" ", 1)
        assert int(value) >= 0 and " " not in frames
        assert frames.split(";")[-1].endswith("test_export_stacks")  # innermost last
    with pytest.raises(ValueError, match="metric should be one of"):
        prof.export_stacks(str(path), "cpu_time")
    with pytest.raises(AssertionError, match=r"export_stacks\(\) requires with_stack=True"):
        _plain_profile().export_stacks(str(path))


def _plain_profile() -> Any:
    with profile() as prof:
        autodiff.ones(2).exp()
    return prof


def test_activity_filters_are_refused() -> None:
    with pytest.raises(ValueError, match="activity filters"):
        profile(activities=[{ProfilerActivity.CPU: ["aten::mm"]}])
    with pytest.raises(ValueError, match="specified more than once"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CPU])


def test_device_time_on_each_device(device: str) -> None:
    # On CUDA this runs CuPy's events (ci/gpu.sh); on strict:1 the backend's host-clock
    # markers. The same recording path either way.
    if device == "cpu":
        pytest.skip("the CPU has no device time")
    activity = ProfilerActivity.CUDA if device.startswith("cuda") else ProfilerActivity.PrivateUse1
    x = autodiff.ones(128, 128, device=device)
    with profile(activities=[ProfilerActivity.CPU, activity]) as prof:
        (x @ x).sum()
    mm = next(event for event in prof.events() if event.name == "aten::mm")
    assert mm.self_device_time_total > 0
    assert mm.device_time_total == mm.self_device_time_total
    name = autodiff.device(device).type.upper()
    assert f"Self {name} time total: " in prof.key_averages().table()
