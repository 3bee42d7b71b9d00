"""autodiff.jit: trace, script, save/load and the rest of torch.jit's common surface, against
eager autodiff on every device, and against torch.jit itself where PyTorch is installed."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

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

        def double(self, x):
            return self.linear(x) * 2

    m = M()
    x = autodiff.randn(4, 3)
    traced = jit.trace_module(m, {"forward": x, "double": x})
    assert autodiff.equal(traced(x), m(x))
    assert autodiff.equal(traced.double(x), m.double(x))
    with pytest.raises(AttributeError, match="trace doesn't support compiling individual"):
        jit.trace(m.double, (x,))


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


class _Frozen(autodiff.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = autodiff.nn.Conv2d(1, 2, 3)
        self.inner = autodiff.nn.Linear(2, 2)
        self.w = autodiff.nn.Parameter(autodiff.ones(2))

    def forward(self, x):
        return self.conv1(x)

    @jit.export
    def version(self):
        return 1.0

    @jit.export
    def other(self, x):
        return self.inner(x) + self.w


def test_frozen_module_keeps_only_forward_and_what_is_preserved():
    """As PyTorch's: submodules, parameters and other methods are folded in and gone."""
    autodiff.manual_seed(0)
    scripted = jit.script(_Frozen()).eval()
    x = autodiff.randn(1, 1, 5, 5)
    frozen = jit.freeze(scripted)
    assert autodiff.equal(frozen(x), scripted(x))
    for name in ("conv1", "inner", "w", "version", "other"):
        with pytest.raises(AttributeError, match=f"^'RecursiveScriptModule' object has no "
                                                 f"attribute '{name}'$"):
            getattr(frozen, name)
    assert [name for name, _ in frozen.named_modules()] == [""]
    assert not list(frozen.parameters()) and not frozen.state_dict()
    assert repr(frozen) == "RecursiveScriptModule(original_name=_Frozen)"
    kept = jit.freeze(scripted, ["version", "w", "other"])
    assert kept.version() == 1.0 and list(kept.state_dict()) == ["w"]
    assert isinstance(kept.w, autodiff.nn.Parameter)
    assert autodiff.equal(kept.other(autodiff.ones(2)), scripted.other(autodiff.ones(2)))
    with pytest.raises(AttributeError, match="has no attribute 'inner'"):
        _ = kept.inner
    assert jit.optimize_for_inference(frozen) is frozen


def test_fork_wait_and_futures():
    future = jit.fork(lambda a, b: a + b, autodiff.ones(2), b=autodiff.ones(2))
    assert future.done() and autodiff.equal(jit.wait(future), 2 * autodiff.ones(2))
    assert future.then(lambda done: done.value() * 3).wait().tolist() == [6.0, 6.0]
    failed = jit.fork(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        jit.wait(failed)


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
