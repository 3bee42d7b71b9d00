"""autodiff.jit: trace, script, save/load and the rest of torch.jit's common surface, against
eager autodiff on every device, and against torch.jit itself where PyTorch is installed."""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any, Final

import numpy as np
import pytest

import autodiff
import autodiff.fx
import autodiff.jit as jit

ROOT = Path(__file__).resolve().parents[2]
BOOL_WARNING = ("Converting a tensor to a Python boolean might cause the trace to be incorrect. "
                "We can't record the data flow of Python values, so this value will be treated "
                "as a constant in the future. This means that the trace might not generalize to "
                "other inputs!")


# ----------------------------------------------------------------------------- programs
def classes(lib):
    """The same modules written against autodiff or torch."""
    nn = lib.nn

    class Gate(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            return -x

    class Cell(nn.Module):
        def __init__(self, gate):
            super().__init__()
            self.gate = gate
            self.linear = nn.Linear(4, 4)

        def forward(self, x, h):
            new_h = lib.tanh(self.gate(self.linear(x)) + h)
            return new_h, new_h

    class Loop(nn.Module):
        def __init__(self, cell):
            super().__init__()
            self.cell = cell

        def forward(self, xs):
            h = lib.zeros(3, 4, device=xs.device)
            y = h
            for i in range(xs.size(0)):
                y, h = self.cell(xs[i], h)
            return y, h

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.bn = nn.BatchNorm2d(4)
            self.fc = nn.Linear(4 * 6 * 6, 5)
            self.register_buffer("scale", lib.tensor(2.0))

        def forward(self, x, extra):
            y = lib.relu(self.bn(self.conv(x))).flatten(1)
            y = self.fc(y) * self.scale
            y = y + extra["b"][0] + y.T.contiguous().t() * 0.5
            y[:, 0] = 1.0
            y.add_(lib.ones(5, device=y.device))
            return y.softmax(-1), (y.shape[0], y.sum(dim=0))

    return Gate, Cell, Loop, Net


def copy_state(source, target, lib):
    """Give `target` (a module of `lib`) `source`'s state (an autodiff module's)."""
    state = {name: lib.tensor(value.detach().cpu().numpy())
             for name, value in source.state_dict().items()}
    target.load_state_dict(state)


def numpy(value):
    return value.detach().cpu().numpy()


def net_inputs(lib, device="cpu"):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((2, 3, 8, 8)), dtype=lib.float32, device=device)
    extra = {"b": (lib.tensor(rng.standard_normal(5), dtype=lib.float32, device=device),)}
    return x, extra


def made_net(device):
    autodiff.manual_seed(0)
    _, _, _, Net = classes(autodiff)
    return Net().to(device).eval()


# ----------------------------------------------------------------------------- trace
def test_traced_module_replays_the_recorded_ops(device):
    net = made_net(device)
    x, extra = net_inputs(autodiff, device)
    traced = jit.trace(net, (x, extra))
    assert isinstance(traced, jit.TopLevelTracedModule) and isinstance(traced, jit.ScriptModule)
    expected, (rows, sums) = net(x, extra)
    got, (got_rows, got_sums) = traced(x, extra)
    assert got.device == x.device and rows == got_rows == 2
    np.testing.assert_allclose(numpy(got), numpy(expected), rtol=1e-6)
    np.testing.assert_allclose(numpy(got_sums), numpy(sums), rtol=1e-6)
    # the parameters are the module's own; the submodules are traced modules
    assert traced.fc.weight is net.fc.weight
    assert traced.state_dict().keys() == net.state_dict().keys()
    assert isinstance(traced.fc, jit.TracedModule) and traced.fc.original_name == "Linear"
    assert "self.conv(x)" in traced.code and "torch.relu" in traced.code
    assert "linear" in traced.fc.code
    ops = [node.op for node in traced.graph.nodes]
    assert ops[:2] == ["placeholder", "placeholder"] and "call_module" in ops


def test_trace_matches_torch():
    torch = pytest.importorskip("torch")
    net = made_net("cpu")
    _, _, _, TorchNet = classes(torch)
    torch_net = TorchNet().eval()
    copy_state(net, torch_net, torch)
    x, extra = net_inputs(autodiff)
    tx, textra = net_inputs(torch)
    ours = jit.trace(net, (x, extra))(x, extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs = torch.jit.trace(torch_net, (tx, textra), strict=False)(tx, textra)
    np.testing.assert_allclose(numpy(ours[0]), numpy(theirs[0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy(ours[1][1]), numpy(theirs[1][1]), rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:`torch.jit.trace` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_a_trace_keeps_the_branch_it_took(lib_name):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")

    def f(a, b):
        c = a * 2
        if c.sum() > 0:
            return c + b
        return c - b

    ones = lib.ones(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traced = lib.jit.trace(f, (ones, ones))
    messages = [str(w.message) for w in caught if w.category is lib.jit.TracerWarning]
    assert messages and messages[0] == BOOL_WARNING
    assert caught[-1].filename == __file__
    # traced on (1, 1): the `c + b` branch, whatever the inputs; the inputs are two
    # placeholders though they were one tensor
    assert traced(-ones, ones).tolist() == [-1.0, -1.0, -1.0]
    assert f(-ones, ones).tolist() == [-3.0, -3.0, -3.0]


@pytest.mark.filterwarnings("ignore:`torch.jit.trace` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_sizes_are_recorded_not_fixed(lib_name, device):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    if lib_name == "torch" and device != "cpu":
        pytest.skip("PyTorch runs on cpu here")

    def flatten_half(y):
        flat = y.view(y.size(0), -1)
        batch, features = flat.shape
        return flat[:, : features // 2] + lib.zeros(batch, 1, device=y.device)

    traced = lib.jit.trace(flatten_half, (lib.ones(1, 2, 2, device=device),))
    bigger = lib.arange(48.0, device=device).reshape(4, 3, 4)
    assert traced(bigger).shape == (4, 6)
    assert lib.equal(traced(bigger), flatten_half(bigger))


def test_traced_function_graph_and_code():
    def f(x, w):
        return autodiff.relu(x @ w + 1).sum(dim=0)

    x, w = autodiff.randn(2, 3), autodiff.randn(3, 4)
    traced = jit.trace(f, (x, w))
    assert isinstance(traced, jit.ScriptFunction) and traced.name == "f"
    assert [node.op for node in traced.graph.nodes] == [
        "placeholder", "placeholder", "call_method", "call_method", "call_function",
        "call_method", "output"]
    # A mode is handed the method an operator stands for (Tensor.matmul for @), as in PyTorch.
    assert "torch.relu" in traced.code and "x.matmul(w)" in traced.code
    assert autodiff.equal(traced(x, w), f(x, w))
    assert jit.is_tracing() is False


def test_constants_and_their_errors():
    weight = autodiff.randn(3)

    def uses_constant(x):
        return x * weight

    traced = jit.trace(uses_constant, (autodiff.ones(3),))
    assert autodiff.equal(traced(autodiff.ones(3)), weight)
    assert "_tensor_constant0" in traced.code
    trainable = autodiff.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Cannot insert a Tensor that requires grad as a "
                                           r"constant\. Consider making it a parameter or input"):
        jit.trace(lambda x: x * trainable, (autodiff.ones(3),))
    with pytest.raises(RuntimeError, match="example_kwarg_inputs should be a dict"):
        jit.trace(autodiff.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="'NoneType' object is not iterable"):
        jit.trace(uses_constant)
    # one tensor is one argument, a list the arguments
    assert autodiff.equal(jit.trace(uses_constant, autodiff.ones(3))(autodiff.ones(3)), weight)
    assert autodiff.equal(jit.trace(uses_constant, [autodiff.ones(3)])(autodiff.ones(3)), weight)


def test_strict_refuses_dict_outputs_and_warns_on_lists():
    x = autodiff.ones(2)
    with pytest.raises(RuntimeError, match="Encountering a dict at the output of the tracer"):
        jit.trace(lambda x: {"a": x}, (x,))
    with pytest.warns(jit.TracerWarning, match="Encountering a list at the output of the tracer"):
        traced = jit.trace(lambda x: (x, [x * 2]), (x,))
    assert autodiff.equal(traced(x)[1][0], 2 * x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert autodiff.equal(jit.trace(lambda x: {"a": x}, (x,), strict=False)(x)["a"], x)


def test_check_trace_warns_on_nondeterministic_nodes():
    dropout = autodiff.nn.Dropout(0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jit.trace(dropout, (autodiff.ones(10, 10),))
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2, messages
    assert messages[0].startswith("Trace had nondeterministic nodes. Did you forget call "
                                  ".eval() on your model? Nodes:")
    assert messages[1].startswith("Output nr 1. of the traced function does not match the "
                                  "corresponding output of the Python function. Detailed "
                                  "error:")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jit.trace(dropout.eval(), (autodiff.ones(10, 10),))


def test_check_inputs_that_change_the_graph_fail():
    def f(x):
        if x.sum() > 0:
            return x + 1
        return x * 2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jit.TracerWarning)
        with pytest.raises(jit.TracingCheckError, match="Graphs differed across invocations"):
            jit.trace(f, (autodiff.ones(2),), check_inputs=[(-autodiff.ones(2),)])


def test_trace_module_traces_named_methods():
    class M(autodiff.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = autodiff.nn.Linear(3, 2)

        def forward(self, x):
            return self.linear(x)

        def doubled(self, x):
            return self.linear(x) * 2

    m = M()
    x = autodiff.randn(4, 3)
    traced = jit.trace_module(m, {"forward": x, "doubled": x})
    assert autodiff.equal(traced(x), m(x))
    assert autodiff.equal(traced.doubled(x), m.doubled(x))
    with pytest.raises(AttributeError, match="trace doesn't support compiling individual"):
        jit.trace(m.doubled, (x,))


def branching(lib):
    """A module whose submodule takes another path for the other method's inputs."""
    nn = lib.nn

    class Branch(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            if x.shape[0] > 2:
                return self.lin(x) * 2
            return self.lin(x) + lib.tensor([1.0, 2.0, 3.0])

    class Top(nn.Module):
        def __init__(self):
            super().__init__()
            self.branch = Branch()
            self.register_buffer("shift", lib.ones(3))

        def forward(self, x):
            return self.branch(x)

        def small(self, y):
            return self.branch(y) - self.shift

        def not_traced(self, y):
            return y

    return Top


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_trace_module_methods_survive_save_and_load(lib_name, tmp_path):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    lib.manual_seed(0)
    top = branching(lib)()
    x, y = lib.randn(4, 3), lib.randn(1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lib.jit.TracerWarning)
        traced = lib.jit.trace_module(top, {"forward": x, "small": y})
    traced.save(str(tmp_path / "top.pt"))
    loaded = lib.jit.load(str(tmp_path / "top.pt"))
    for module in (traced, loaded):
        assert lib.allclose(module(x), top(x)) and lib.allclose(module.small(y), top.small(y))
        # the submodule took its other path under `small`: a method of its own, forward1,
        # and so did what it calls
        assert lib.allclose(module.branch.forward1(y), top.branch(y))
        assert lib.allclose(module.branch.lin.forward1(y), top.branch.lin(y))
        assert module.small.name == "small" and module.forward.name == "forward"
        assert module.small.code.lstrip().startswith("def small(self")
        assert module.forward.code == module.code and module.forward.graph is not None
        assert module.branch.forward1.code.lstrip().startswith("def forward1(self")
        assert module.small.owner is not None and module.small.graph is not None
        assert module.code.lstrip().startswith("def forward(self")
        assert module.branch.forward1.code == traced.branch.forward1.code
        for name in ("not_traced", "missing"):
            with pytest.raises(AttributeError, match=f"^'RecursiveScriptModule' object has no "
                                                     f"attribute '{name}'$"):
                getattr(module, name)
        with pytest.raises(AttributeError, match="'RecursiveScriptModule' object has no "
                                                 "attribute 'forward2'"):
            module.branch.forward2(y)
    assert "forward1" in traced.small.code
    # only `small`: no forward, with PyTorch's errors
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lib.jit.TracerWarning)
        only = lib.jit.trace_module(top, {"small": y})
    only.save(str(tmp_path / "only.pt"))
    loaded = lib.jit.load(str(tmp_path / "only.pt"))
    for module in (only, loaded):
        assert lib.allclose(module.small(y), top.small(y))
        with pytest.raises(AttributeError, match="'RecursiveScriptModule' object has no "
                                                 "attribute 'forward'"):
            module(y)
        with pytest.raises(AttributeError, match="'RecursiveScriptModule' object has no "
                                                 "attribute 'code'"):
            _ = module.code
        with pytest.raises(RuntimeError, match="Method 'forward' is not defined"):
            _ = module.graph
    # its first trace: forward (PyTorch refuses to call a traced submodule itself)
    assert lib.allclose(loaded.branch(y), top.branch(y))


def test_trace_module_methods_match_torch(tmp_path):
    torch = pytest.importorskip("torch")
    autodiff.manual_seed(0)
    ours = branching(autodiff)()
    theirs = branching(torch)()
    copy_state(ours, theirs, torch)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((1, 3))
    results = []
    for lib, top in ((autodiff, ours), (torch, theirs)):
        a, b = lib.tensor(x, dtype=lib.float32), lib.tensor(y, dtype=lib.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.jit.trace_module(top, {"forward": a, "small": b}).save(str(tmp_path / "m.pt"))
            loaded = lib.jit.load(str(tmp_path / "m.pt"))
        results.append([numpy(loaded(a)), numpy(loaded.small(b)),
                        numpy(loaded.branch.forward1(b))])
    for mine, reference in zip(*results, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)


def test_traced_module_behaves_as_a_module(device):
    net = made_net("cpu")
    x, extra = net_inputs(autodiff)
    traced = jit.trace(net, (x, extra))
    assert repr(traced).startswith("Net(\n  original_name=Net\n  (conv): Conv2d(original_name=")
    traced.train()
    assert traced.training and traced.bn.training
    traced.eval()
    assert not traced.bn.training
    traced.to(device)
    x, extra = net_inputs(autodiff, device)
    assert traced(x, extra)[0].device == x.device
    assert traced.fc.weight.device == x.device


def test_traced_module_trains_and_takes_keyword_inputs(tmp_path):
    class Tied(autodiff.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = autodiff.nn.Linear(3, 3, bias=False)
            self.out = autodiff.nn.Linear(3, 3, bias=False)
            self.out.weight = self.embed.weight

        def forward(self, x, scale=1.0):
            return self.out(self.embed(x)) * scale

    tied = Tied()
    x = autodiff.randn(2, 3)
    traced = jit.trace(tied, example_kwarg_inputs={"x": x, "scale": 2.0})
    traced(x=x, scale=2.0).sum().backward()
    expected = autodiff.autograd.grad(tied(x, 2.0).sum(), tied.embed.weight)[0]
    assert autodiff.allclose(tied.embed.weight.grad, expected)
    traced.save(tmp_path / "tied.pt")
    loaded = jit.load(tmp_path / "tied.pt")
    assert loaded.out.weight is loaded.embed.weight
    assert autodiff.allclose(loaded(x, 2.0), tied(x, 2.0))


def test_library_modules_the_mode_cannot_see_into_are_kept_whole(tmp_path):
    class Tagger(autodiff.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = autodiff.nn.LSTM(4, 5, batch_first=True)
            self.out = autodiff.nn.Linear(5, 3)

        def forward(self, x):
            hidden, _ = self.lstm(x)
            return self.out(hidden).log_softmax(-1)

    tagger = Tagger()
    x = autodiff.randn(2, 3, 4)
    traced = jit.trace(tagger, (x,))
    assert type(traced.lstm) is autodiff.nn.LSTM and "self.lstm(x)" in traced.code
    longer = autodiff.randn(2, 7, 4)
    assert autodiff.allclose(traced(longer), tagger(longer))
    traced.save(tmp_path / "tagger.pt")
    assert autodiff.allclose(jit.load(tmp_path / "tagger.pt")(longer), tagger(longer))
    with pytest.raises(RuntimeError, match="LSTM makes tensors through calls the tracer "
                                           "does not see"):
        jit.trace(lambda x: tagger.lstm(x)[0], (x,))  # a function: nowhere to keep it
    lstm = jit.trace(tagger.lstm, (x,))  # on its own: kept as a scripted module
    assert isinstance(lstm, jit.ScriptModule)
    assert autodiff.allclose(lstm(longer)[0], tagger.lstm(longer)[0])


# ----------------------------------------------------------------------------- script
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_scripted_control_flow_follows_the_data(lib_name, device):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    if lib_name == "torch" and device != "cpu":
        pytest.skip("PyTorch runs on cpu here")

    def f(a, b):
        c = a * 2
        if c.sum() > 0:
            return c + b
        return c - b

    scripted = lib.jit.script(f)
    ones = lib.ones(3, device=device)
    assert scripted(ones, ones).tolist() == [3.0, 3.0, 3.0]
    assert scripted(-ones, ones).tolist() == [-3.0, -3.0, -3.0]
    Gate, *_ = classes(lib)
    gate = lib.jit.script(Gate())
    assert isinstance(gate, lib.jit.ScriptModule) and gate.original_name == "Gate"
    assert lib.equal(gate(-ones), ones) and lib.equal(gate(ones), ones)


def test_scripted_module_shares_parameters_and_shows_its_source():
    Gate, Cell, _, _ = classes(autodiff)
    cell = Cell(Gate())
    scripted = jit.script(cell)
    assert scripted.linear.weight is cell.linear.weight
    assert isinstance(scripted.gate, jit.ScriptModule)
    assert repr(scripted) == ("RecursiveScriptModule(\n  original_name=Cell\n"
                              "  (gate): RecursiveScriptModule(original_name=Gate)\n"
                              "  (linear): RecursiveScriptModule(original_name=Linear)\n)")
    assert scripted.code.startswith("def forward(self, x, h):")
    assert jit.script(scripted) is scripted
    # fx traces a module without control flow on tensors, not one with it
    assert any(node.op == "call_module" or node.op == "call_function"
               for node in jit.script(autodiff.nn.Linear(2, 2)).graph.nodes)
    with pytest.raises(RuntimeError, match="'Gate' has no graph"):
        _ = scripted.gate.graph
    # a scripted fx GraphModule keeps its graph and generated code
    graph_module = autodiff.fx.symbolic_trace(autodiff.nn.Sequential(autodiff.nn.Linear(2, 2)))
    scripted_graph_module = jit.script(graph_module)
    assert scripted_graph_module.code == graph_module.code
    assert scripted_graph_module.graph is graph_module.graph


def test_trace_around_a_scripted_loop_keeps_its_loop():
    Gate, Cell, Loop, _ = classes(autodiff)
    autodiff.manual_seed(0)
    x, h = autodiff.rand(3, 4), autodiff.rand(3, 4)
    cell = jit.trace(Cell(jit.script(Gate())), (x, h))

    class Wrap(autodiff.nn.Module):
        def __init__(self):
            super().__init__()
            self.loop = jit.script(Loop(cell))

        def forward(self, xs):
            y, _ = self.loop(xs)
            return autodiff.relu(y)

    wrap = Wrap()
    traced = jit.trace(wrap, (autodiff.rand(10, 3, 4),))
    assert traced.loop is wrap.loop
    longer = autodiff.rand(12, 3, 4)  # another number of steps: the scripted loop runs them
    assert autodiff.equal(traced(longer), wrap(longer))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_mixed_trace_and_script_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    autodiff_cell = None
    for lib in (autodiff, torch):
        Gate, Cell, Loop, _ = classes(lib)
        cell = Cell(lib.jit.script(Gate()))
        if autodiff_cell is None:
            autodiff_cell = cell
        else:
            copy_state(autodiff_cell, cell, torch)
        xs = lib.tensor(np.random.default_rng(1).standard_normal((6, 3, 4)), dtype=lib.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loop = lib.jit.script(Loop(lib.jit.trace(cell, (xs[0], xs[1]))))
        results.append(numpy(loop(xs)[0]))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- save / load
def test_save_load_round_trip(device, tmp_path):
    net = made_net(device)
    x, extra = net_inputs(autodiff, device)
    traced = jit.trace(net, (x, extra))
    path = tmp_path / "net.pt"
    traced.save(str(path))
    assert not any(name.startswith("archive/pickled/")
                   for name in zipfile.ZipFile(path).namelist())
    loaded = jit.load(path)
    assert isinstance(loaded, jit.RecursiveScriptModule) and loaded.original_name == "Net"
    assert loaded.fc.original_name == "Linear" and not loaded.training
    assert autodiff.equal(loaded(x, extra)[0], traced(x, extra)[0])
    assert loaded.state_dict().keys() == net.state_dict().keys()
    for name, value in net.state_dict().items():
        assert autodiff.equal(loaded.state_dict()[name], value), name
        assert loaded.state_dict()[name].device == value.device
    assert isinstance(loaded.fc.weight, autodiff.nn.Parameter)
    assert loaded.fc.weight.requires_grad
    assert loaded.code == traced.code
    on_cpu = jit.load(path, map_location="cpu")
    assert on_cpu.fc.weight.device == autodiff.device("cpu")


def test_load_needs_no_class(tmp_path):
    net = made_net("cpu")
    x, extra = net_inputs(autodiff)
    jit.trace(net, (x, extra)).save(tmp_path / "net.pt")
    autodiff.save({"x": x, "b": extra["b"][0]}, tmp_path / "inputs.pt")
    program = ("import sys, autodiff\n"
               "m = autodiff.jit.load(sys.argv[1])\n"
               "i = autodiff.load(sys.argv[2])\n"
               "autodiff.save(m(i['x'], {'b': (i['b'],)})[0], sys.argv[3])\n")
    subprocess.run([sys.executable, "-c", program, str(tmp_path / "net.pt"),
                    str(tmp_path / "inputs.pt"), str(tmp_path / "out.pt")],
                   check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""},
                   timeout=300)
    assert autodiff.equal(autodiff.load(tmp_path / "out.pt"), net(x, extra)[0])


def test_save_load_of_functions_scripted_modules_and_extra_files(tmp_path):
    def f(x, y):
        return autodiff.sigmoid(x) * y

    x = autodiff.randn(3)
    buffer = io.BytesIO()
    jit.save(jit.trace(f, (x, x)), buffer, _extra_files={"meta.txt": "hello"})
    buffer.seek(0)
    extra = {"meta.txt": ""}
    loaded = jit.load(buffer, _extra_files=extra)
    assert extra["meta.txt"] == b"hello"
    assert autodiff.equal(loaded(x, 2 * x), f(x, 2 * x))
    # a scripted module fx can trace is saved as its graph; one it cannot, pickled
    linear = autodiff.nn.Linear(3, 2)
    jit.script(linear).save(tmp_path / "linear.pt")
    assert autodiff.equal(jit.load(tmp_path / "linear.pt")(x), linear(x))
    jit.script(PickledGate()).save(tmp_path / "gate.pt")
    gate = jit.load(tmp_path / "gate.pt")
    assert autodiff.equal(gate(-x.abs()), x.abs()) and autodiff.equal(gate(x.abs()), x.abs())


def test_save_and_load_errors(tmp_path):
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'save'"):
        jit.save(autodiff.nn.Linear(2, 2), tmp_path / "x.pt")
    with pytest.raises(ValueError, match=r"The provided filename .* does not exist"):
        jit.load(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="is a directory"):
        jit.load(tmp_path)
    (tmp_path / "bad.pt").write_bytes(b"not a zip")
    with pytest.raises(RuntimeError, match="PytorchStreamReader failed reading zip archive"):
        jit.load(tmp_path / "bad.pt")
    Gate, *_ = classes(autodiff)
    with pytest.raises(RuntimeError, match=r"'Gate' has no graph to save \(autodiff\.fx"):
        jit.script(Gate()).save(tmp_path / "gate.pt")
    import pickle

    with pytest.raises(pickle.PickleError, match=r"ScriptModules cannot be deepcopied using "
                                                 r"copy\.deepcopy or saved using torch\.save"):
        pickle.dumps(jit.script(autodiff.nn.Linear(2, 2)))


def exporting(lib):
    """A module with an exported method, ignored and unused ones and plain attributes."""
    jit = lib.jit

    class Exporting(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)
            self.scale = 2
            self.name = "hello"
            self.sizes = [1, 2]
            self.table = {"a": 1.5}
            self.offset = lib.ones(3)

        @jit.export
        def exported(self, x):
            return self.lin(x) * self.scale

        @jit.ignore
        def ignored(self, x):
            return x + 100

        @jit.unused
        def unused(self, x):
            return x - 100

        def forward(self, x):
            return self.lin(x) + self.offset

    return Exporting


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_exported_methods_and_attributes_survive_save_and_load(lib_name, tmp_path):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    module = exporting(lib)()
    scripted = lib.jit.script(module)
    x = lib.randn(2, 3)
    assert lib.allclose(scripted.exported(x), module.exported(x))
    assert "def exported(self" in scripted.exported.code
    assert scripted.exported.name == "exported" and scripted.exported.graph is not None
    assert scripted.forward.name == "forward" and scripted.forward.code == scripted.code
    assert lib.allclose(scripted.forward(x), module(x))
    # ignored and unused methods run as Python on the scripted module, and are not saved
    assert lib.equal(scripted.ignored(x), x + 100) and lib.equal(scripted.unused(x), x - 100)
    scripted.save(str(tmp_path / "m.pt"))
    loaded = lib.jit.load(str(tmp_path / "m.pt"))
    assert lib.allclose(loaded(x), module(x))
    assert lib.allclose(loaded.exported(x), module.exported(x))
    assert "def exported(self" in loaded.exported.code
    assert (loaded.scale, loaded.name, loaded.sizes, loaded.table) == (
        2, "hello", [1, 2], {"a": 1.5})
    assert lib.equal(loaded.offset, module.offset)
    for name in ("ignored", "unused"):
        with pytest.raises(AttributeError, match=f"'RecursiveScriptModule' object has no "
                                                 f"attribute '{name}'"):
            getattr(loaded, name)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_unused_raises_from_scripted_code_and_ignored_cannot_be_saved(lib_name, tmp_path):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")

    class Memory(lib.nn.Module):  # the example of torch.jit.unused's documentation
        def __init__(self, use_memory_efficient):
            super().__init__()
            self.use_memory_efficient = use_memory_efficient

        @lib.jit.unused
        def memory_efficient(self, x):
            return x + 10

        def helper(self, x):
            return self.memory_efficient(x)

        @lib.jit.ignore
        def python_only(self, x):
            return x * 3

        def forward(self, x):
            if self.use_memory_efficient:
                return self.helper(x)
            return x + 10

    x = lib.ones(2)
    lib.jit.script(Memory(False)).save(str(tmp_path / "m.pt"))
    assert lib.equal(lib.jit.load(str(tmp_path / "m.pt"))(x), x + 10)
    scripted = lib.jit.script(Memory(True))
    message = "This Python function is annotated to be ignored and cannot be run"
    with pytest.raises(lib.jit.Error, match=message):
        scripted(x)
    with pytest.raises(lib.jit.Error, match=message):
        scripted.helper(x)
    # called from Python, both run
    assert lib.equal(scripted.memory_efficient(x), x + 10)
    assert lib.equal(scripted.python_only(x), 3 * x)

    class CallsPython(lib.nn.Module):
        @lib.jit.ignore
        def python_only(self, x):
            return x * 3

        def forward(self, x):
            return self.python_only(x) + 1

    calls = lib.jit.script(CallsPython())
    assert lib.equal(calls(x), 3 * x + 1)
    with pytest.raises(RuntimeError, match=re.escape(
            "Could not export Python function call 'python_only'. Remove calls to Python "
            "functions before export.")):
        calls.save(str(tmp_path / "c.pt"))

    @lib.jit.ignore
    def python_helper(x):
        return x * 5

    class CallsFunction(lib.nn.Module):
        def forward(self, x):
            return python_helper(x) - 1

    calls_function = lib.jit.script(CallsFunction())
    assert lib.equal(calls_function(x), 5 * x - 1)
    with pytest.raises(RuntimeError, match="Could not export Python function call "
                                           "'python_helper'"):
        calls_function.save(str(tmp_path / "f.pt"))

    def scripted_function(x):
        return python_helper(x) + 2

    with pytest.raises(RuntimeError, match="Could not export Python function call "
                                           "'python_helper'"):
        lib.jit.script(scripted_function).save(str(tmp_path / "g.pt"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_a_trace_keeps_exported_methods(lib_name, tmp_path):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    module = exporting(lib)()
    x = lib.randn(2, 3)
    attributes = set(vars(module))
    traced = lib.jit.trace(module, x)
    assert set(vars(module)) == attributes  # (the original is left alone)
    traced.save(str(tmp_path / "t.pt"))
    loaded = lib.jit.load(str(tmp_path / "t.pt"))
    for result in (traced, loaded):
        assert lib.allclose(result.exported(x), module.exported(x))
        assert "def exported(self" in result.exported.code


def test_exported_methods_match_torch(tmp_path):
    torch = pytest.importorskip("torch")
    ours, theirs = exporting(autodiff)(), exporting(torch)()
    copy_state(ours, theirs, torch)
    x = np.random.default_rng(3).standard_normal((2, 3))
    results = []
    for lib, module in ((autodiff, ours), (torch, theirs)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            lib.jit.script(module).save(str(tmp_path / "m.pt"))
            loaded = lib.jit.load(str(tmp_path / "m.pt"))
        a = lib.tensor(x, dtype=lib.float32)
        results.append([numpy(loaded(a)), numpy(loaded.exported(a))])
    for mine, reference in zip(*results, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_constants_cannot_be_set(lib_name, tmp_path):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")

    class Constants(lib.nn.Module):
        __constants__ = ("k", "sizes")
        fin: Final[float]

        def __init__(self):
            super().__init__()
            self.k = 2
            self.sizes = (1, 2)
            self.fin = 0.5
            self.free = 3

        def forward(self, x):
            return x * self.k + self.fin + self.sizes[0] + self.free

    if lib_name == "torch":  # (it cannot read this file's string annotations)
        Constants.__annotations__ = {"fin": Final[float]}
    scripted = lib.jit.script(Constants())
    scripted.save(str(tmp_path / "c.pt"))
    loaded = lib.jit.load(str(tmp_path / "c.pt"))
    for module in (scripted, loaded):
        for name, value in (("k", "2"), ("sizes", r"\(1, 2\)"), ("fin", "0.5")):
            with pytest.raises(RuntimeError, match=f"^Can't set constant '{name}' which has "
                                                   f"value:{value}$"):
                setattr(module, name, 7)
        module.free = 4  # not a constant
        assert module.free == 4 and module.k == 2
    unscripted = Constants()
    unscripted.k = 3  # only TorchScript reads the annotations
    assert unscripted.k == 3


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_scripted_attributes_keep_their_types(lib_name, tmp_path):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")

    class Typed(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.count, self.rate, self.flag, self.label = 1, 1.0, True, "a"
            self.sizes, self.table, self.pair = [1, 2], {"a": 1}, (1, "a")
            self.words = lib.jit.Attribute([], list[str])
            self.mask = lib.ones(2)
            self.anything = object()

        def forward(self, x):
            return x

    scripted = lib.jit.script(Typed())
    refused = [("count", 2.5, "int", "<class 'float'>"), ("rate", "x", "float", "<class 'str'>"),
               ("label", 1, "str", "<class 'int'>"), ("sizes", [1.5], "List[int]",
                                                    "<class 'list'>"),
               ("table", {"a": "b"}, "Dict[str, int]", "<class 'str'>"),
               ("pair", (2, 3), "Tuple[int, str]", "<class 'int'>"),
               ("words", [1], "List[str]", "<class 'int'>")]
    for name, value, kind, culprit in refused:
        with pytest.raises(RuntimeError, match=re.escape(
                f"Could not cast attribute '{name}' to type {kind}: Unable to cast Python "
                f"instance of type {culprit}")):
            setattr(scripted, name, value)
    with pytest.raises(RuntimeError, match="Could not cast attribute 'mask' to type Tensor: "
                                           "Unable to cast 3 to Tensor"):
        scripted.mask = 3
    # values of the type, or that cast to it, are taken (as the type)
    scripted.count, scripted.rate, scripted.flag, scripted.sizes = True, 3, 0, (4, 5)
    assert (scripted.count, scripted.rate, scripted.flag, scripted.sizes) == (1, 3.0, False,
                                                                               [4, 5])
    assert type(scripted.rate) is float
    scripted.anything = 5  # (a type TorchScript did not infer: anything goes)
    scripted.save(str(tmp_path / "typed.pt"))
    loaded = lib.jit.load(str(tmp_path / "typed.pt"))
    assert loaded.sizes == [4, 5] and loaded.words == []
    with pytest.raises(RuntimeError, match=re.escape("Could not cast attribute 'label' to type "
                                                     "str")):
        loaded.label = 1
    loaded.label = "b"
    assert loaded.label == "b"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_extra_files_the_archive_lacks_read_as_empty(lib_name, tmp_path):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    path = str(tmp_path / "m.pt")
    lib.jit.script(lib.nn.Linear(2, 2)).save(path, _extra_files={"a.txt": "hi",
                                                                  "b.bin": b"\x00\x01"})
    extra = {"a.txt": "", "b.bin": "", "missing.txt": "kept?"}
    lib.jit.load(path, _extra_files=extra)
    assert extra == {"a.txt": b"hi", "b.bin": b"\x00\x01", "missing.txt": b""}


# ----------------------------------------------------------------------------- the rest
def test_freeze_and_optimize_for_inference(device):
    net = made_net(device)
    x, extra = net_inputs(autodiff, device)
    scripted = jit.script(net)
    with pytest.raises(RuntimeError, match="Freezing expects a ScriptModule as input"):
        jit.freeze(net)
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        jit.freeze(jit.script(made_net(device).train()))
    frozen = jit.freeze(scripted)
    assert len(frozen.state_dict()) == 0 and len(scripted.state_dict()) > 0
    assert autodiff.equal(frozen(x, extra)[0], net(x, extra)[0])
    optimized = jit.optimize_for_inference(jit.trace(net, (x, extra)))
    assert len(optimized.state_dict()) == 0
    assert autodiff.equal(optimized(x, extra)[0], net(x, extra)[0])
    assert not optimized(x, extra)[0].requires_grad


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_freeze_keeps_forward_and_what_is_preserved_and_saves(lib_name, tmp_path):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    module = exporting(lib)().eval()
    x = lib.randn(2, 3)
    scripted = lib.jit.script(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lib.jit.TracerWarning)
        traced = lib.jit.trace_module(branching(lib)().eval(), {"forward": x, "small": x[:1]})
    for source, method in ((scripted, "exported"), (traced, "small")):
        frozen = lib.jit.freeze(source)
        with pytest.raises(AttributeError, match=f"'RecursiveScriptModule' object has no "
                                                 f"attribute '{method}'"):
            getattr(frozen, method)
        kept = lib.jit.freeze(source, preserved_attrs=[method])
        assert lib.allclose(getattr(kept, method)(x[:1]), getattr(source, method)(x[:1]))
        assert len(kept.state_dict()) == 0
        optimized = lib.jit.optimize_for_inference(source, other_methods=[method])
        assert lib.allclose(getattr(optimized, method)(x[:1]), getattr(source, method)(x[:1]))
        with pytest.raises(RuntimeError, match=r"^Unknown name: nope$"):
            lib.jit.freeze(source, preserved_attrs=["nope"])
        # a frozen module's weights are constants: saved and loaded with it
        kept.save(str(tmp_path / "frozen.pt"))
        loaded = lib.jit.load(str(tmp_path / "frozen.pt"))
        assert lib.allclose(loaded(x), source(x))
        assert lib.allclose(getattr(loaded, method)(x[:1]), getattr(source, method)(x[:1]))


def test_fork_wait_and_futures():
    future = jit.fork(lambda a, b: a + b, autodiff.ones(2), b=autodiff.ones(2))
    assert future.done() and autodiff.equal(jit.wait(future), 2 * autodiff.ones(2))
    assert future.then(lambda done: done.value() * 3).wait().tolist() == [6.0, 6.0]



@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_fork_raises_what_the_call_raises(lib_name):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    with pytest.raises(ZeroDivisionError):  # at once: eager fork runs the call there
        lib.jit.fork(lambda: 1 / 0)
    future = lib.jit.fork(lambda a: a + 1, lib.ones(2))
    assert future.done() and lib.equal(future.value(), lib.jit.wait(future))
    seen = []
    future.add_done_callback(lambda done: seen.append(done.value()))
    assert len(seen) == 1 and lib.equal(seen[0], 2 * lib.ones(2))


def test_annotations_and_markers():
    assert jit.annotate(list[int], [1]) == [1]
    assert jit.is_scripting() is False
    assert jit.isinstance([1, 2], list[int]) and not jit.isinstance([1, "a"], list[int])
    assert jit.isinstance({"a": autodiff.ones(1)}, dict[str, autodiff.Tensor])
    assert jit.isinstance((1, "a"), tuple[int, str]) and jit.isinstance(None, int | None)
    assert str(jit.Final) == "typing.Final"

    class M(autodiff.nn.Module):
        def __init__(self):
            super().__init__()
            self.count = jit.Attribute(3, int)

        @jit.export
        def exported(self):
            return self.count

        @jit.ignore
        def ignored(self):
            return "python"

        @jit.unused
        def unused(self):
            return "unused"

        def forward(self, x):
            return x * self.count

    scripted = jit.script(M())
    assert scripted.count == 3 and scripted.exported() == 3 and scripted.ignored() == "python"
    assert M().count == jit.Attribute(3, int)

    @jit.interface
    class Interface:
        def run(self, x: autodiff.Tensor) -> autodiff.Tensor: ...

    assert Interface.__torch_script_interface__

    @jit.script_if_tracing
    def helper(x):
        return x + 1

    assert autodiff.equal(jit.trace(lambda x: helper(x) * 2, (autodiff.ones(2),))(
        autodiff.zeros(2)), 2 * autodiff.ones(2))


def test_is_tracing_inside_a_trace():
    seen = []

    def f(x):
        seen.append(jit.is_tracing())
        return x + 1

    jit.trace(f, (autodiff.ones(1),), check_trace=False)
    assert seen == [True]

    class Failing(autodiff.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = autodiff.nn.Linear(1, 1)

        def forward(self, x):
            return self.inner(x, x)

    failing = Failing()
    with pytest.raises(TypeError):
        jit.trace(failing, (autodiff.ones(1),))
    assert jit.is_tracing() is False
    assert not failing.inner._forward_pre_hooks and not failing.inner._forward_hooks


def freezable(lib):
    class Sub(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)
            self.k = 2.0

        def forward(self, x):
            return self.lin(x) * self.k

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = Sub()
            self.w = lib.nn.Parameter(lib.ones(3) * 1.5)
            self.register_buffer("b", lib.full((3,), 0.25))
            self.scale = 3
            self.unused = 5

        def forward(self, x):
            return self.sub(x) * self.w + self.b + self.scale

        @lib.jit.export
        def version(self):
            return 1.0

    return Net


_FREEZE_NAMES = ("sub", "w", "b", "scale", "unused", "version")


def _reachable(lib, module):
    """Which of _FREEZE_NAMES `module` shows (its type's name), or the AttributeError's text."""
    seen = {}
    for name in _FREEZE_NAMES:
        try:
            value = getattr(module, name)
        except AttributeError as error:
            seen[name] = str(error)
            continue
        # (PyTorch shows a preserved submodule as a torch._C.ScriptModule before saving)
        seen[name] = ("tensor" if isinstance(value, lib.Tensor) else
                      "module" if isinstance(value, lib.nn.Module)
                      or type(value).__name__ == "ScriptModule" else
                      "method" if callable(value) else type(value).__name__)
    return seen


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("preserved", [None, ["version"], ["sub"], ["w"], ["b"], ["scale"],
                                       ["sub.lin"], ["unused", "version"]])
def test_freeze_inlines_what_is_not_preserved_as_torch(preserved, tmp_path):
    torch = pytest.importorskip("torch")
    shown = {}
    for lib in (autodiff, torch):
        lib.manual_seed(0)
        net = freezable(lib)().eval()
        x = lib.randn(2, 3)
        frozen = lib.jit.freeze(lib.jit.script(net), preserved)
        path = str(tmp_path / f"{lib.__name__}.pt")
        lib.jit.save(frozen, path)
        loaded = lib.jit.load(path)
        with lib.no_grad():
            assert lib.allclose(frozen(x), net(x)) and lib.allclose(loaded(x), net(x))
        if preserved and "version" in preserved:
            assert frozen.version() == loaded.version() == 1.0
        if preserved == ["sub"]:
            assert lib.allclose(frozen.sub.forward(x), net.sub(x)) and frozen.sub.k == 2.0
        shown[lib] = (_reachable(lib, frozen), _reachable(lib, loaded),
                      sorted(frozen.state_dict()), sorted(loaded.state_dict()), repr(frozen))
    assert shown[autodiff] == shown[torch]
    kept = set(preserved or ()) | ({"sub"} if preserved == ["sub.lin"] else set())
    for name, seen in shown[autodiff][0].items():
        hidden = f"'RecursiveScriptModule' object has no attribute '{name}'"
        assert (seen == hidden) == (name not in kept), (name, seen)


def test_freeze_of_a_traced_module_hides_its_submodules_after_load(tmp_path):
    net = freezable(autodiff)().eval()
    x = autodiff.randn(2, 3)
    frozen = jit.freeze(jit.trace(net, (x,)))
    with pytest.raises(AttributeError, match=r"^'RecursiveScriptModule' object has no "
                                             r"attribute 'sub'$"):
        _ = frozen.sub
    assert [name for name, _ in frozen.named_modules()] == [""]
    assert list(frozen.parameters()) == [] and "def forward" in frozen.code
    frozen.save(str(tmp_path / "traced.pt"))
    loaded = jit.load(str(tmp_path / "traced.pt"))
    with pytest.raises(AttributeError, match="'RecursiveScriptModule' object has no "
                                             "attribute 'sub'"):
        _ = loaded.sub
    assert autodiff.allclose(loaded(x), net(x)) and not loaded(x).requires_grad
    with pytest.raises(RuntimeError, match=r"^Unknown name: b$"):  # (inlined already)
        jit.freeze(frozen, ["b"])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_executor_settings_and_save_to_buffer(lib_name):
    lib = autodiff if lib_name == "autodiff" else pytest.importorskip("torch")
    scripted = lib.jit.script(lib.nn.Linear(2, 2).eval())
    x = lib.ones(1, 2)
    with lib.jit.optimized_execution(False):
        assert lib.equal(scripted(x), scripted.forward(x))
    with pytest.warns(UserWarning, match="Only works in script mode"):
        fusion = lib.jit.strict_fusion()
    with fusion:
        pass
    frozen = lib.jit.freeze(scripted)
    assert lib.jit.run_frozen_optimizations(frozen) is None
    assert lib.allclose(frozen(x), scripted(x))
    data = scripted.save_to_buffer(_extra_files={"note.txt": "hi"})
    extra = {"note.txt": ""}
    loaded = lib.jit.load(io.BytesIO(data), _extra_files=extra)
    assert isinstance(data, bytes) and extra["note.txt"] == b"hi"
    assert lib.allclose(loaded(x), scripted(x))
    assert issubclass(lib.jit.ScriptWarning, Warning)


def test_fusion_settings():
    assert jit.onednn_fusion_enabled() is False
    jit.enable_onednn_fusion(True)
    assert jit.onednn_fusion_enabled() is True
    jit.enable_onednn_fusion(False)
    previous = jit.set_fusion_strategy([("DYNAMIC", 3)])
    assert previous == [("STATIC", 2), ("DYNAMIC", 10)]
    assert jit.set_fusion_strategy(previous) == [("DYNAMIC", 3)]
    with pytest.raises(ValueError, match="FusionBehavior only supported 'STATIC' or 'DYNAMIC', "
                                         "got: FOO"):
        jit.set_fusion_strategy([("FOO", 1)])


class OldStyle(jit.ScriptModule):
    """A ScriptModule subclass with a script_method (TorchScript's first API)."""

    def __init__(self):
        super().__init__()
        self.weight = autodiff.nn.Parameter(autodiff.ones(3))

    @jit.script_method
    def forward(self, x):
        if x.sum() > 0:
            return x * self.weight
        return x


def test_script_module_subclasses(tmp_path):
    module = OldStyle()
    x = autodiff.arange(3.0)
    assert autodiff.equal(module(x), x) and autodiff.equal(module(-x), -x)
    assert module.code.startswith("@jit.script_method\ndef forward(self, x):")
    module.save(tmp_path / "old.pt")
    loaded = jit.load(tmp_path / "old.pt")
    assert type(loaded) is OldStyle and autodiff.equal(loaded(-x), -x)
    assert autodiff.equal(loaded.weight, module.weight)


class PickledGate(autodiff.nn.Module):
    """A module fx cannot trace (control flow on a tensor), defined where pickle finds it."""

    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


def test_jit_set_autocast_mode() -> None:
    assert autodiff._C._jit_set_autocast_mode(False) is True
    try:
        assert autodiff._C._jit_set_autocast_mode(False) is False
    finally:
        assert autodiff._C._jit_set_autocast_mode(True) is False
    with pytest.raises(TypeError, match=r"^_jit_set_autocast_mode\(\): incompatible function "
                                        r"arguments"):
        autodiff._C._jit_set_autocast_mode(1)


def test_a_trace_under_autocast_keeps_its_casts() -> None:
    # PyTorch's tracer records autocast's casts: the trace runs as traced with autocast off
    autodiff.manual_seed(0)
    model = _mixed_model(autodiff)  # each autocast policy: lower precision, promote, none
    x = autodiff.rand(2, 4)
    with autodiff.no_grad(), autodiff.autocast("cpu", dtype=autodiff.bfloat16):
        traced = autodiff.jit.trace(model, x, check_trace=False)
        expected = model(x)
    with autodiff.no_grad():
        outputs = traced(x)
        plain = model(x)
    assert [o.dtype for o in outputs] == [e.dtype for e in expected]
    assert all(autodiff.equal(o, e) for o, e in zip(outputs, expected))
    assert plain[0].dtype is autodiff.float32  # the model itself is unchanged
    assert "to(torch.bfloat16)" in traced.linear.code


def _mixed_model(library: Any) -> Any:
    """_Mixed of `library` (autodiff or PyTorch)."""

    class Mixed(library.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = library.nn.Linear(4, 4)
            self.conv = library.nn.Conv1d(2, 2, 1)

        def forward(self, x: Any) -> Any:
            y = self.linear(x) @ self.linear.weight
            joined = library.cat([y, x], 1)
            probabilities = library.nn.functional.softmax(y, dim=-1)
            return probabilities, joined, y.sum(), self.conv(x.reshape(1, 2, 4)).float().exp()

    return Mixed().eval()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_a_trace_under_autocast_has_pytorchs_dtypes() -> None:
    import torch

    def dtypes_of(library: Any) -> list[str]:
        x = library.rand(2, 4)
        with library.no_grad(), library.autocast("cpu", dtype=library.bfloat16):
            traced = library.jit.trace(_mixed_model(library), x, check_trace=False)
        with library.no_grad():
            return [str(o.dtype) for o in traced(x)]

    assert dtypes_of(autodiff) == dtypes_of(torch)
