"""autodiff.fx on its own (PyTorch's test_fx.py cases, as semantics): tracing, the Graph and
Node editing API, GraphModule's code, copies and pickles, Interpreter and Transformer, and the
errors a traced program meets. The printouts expected are PyTorch's (test_fx_parity.py checks
them against torch.fx itself where it is installed)."""

from __future__ import annotations

import copy
import operator
import pickle
import re
import warnings

import pytest

import autodiff
import autodiff.fx as fx
import autodiff.nn as nn
from autodiff.fx.node import map_aggregate
from autodiff.fx.proxy import TraceError


class Sub(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)

    def forward(self, x):
        return self.linear(x).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        autodiff.manual_seed(0)
        self.sub = Sub()
        self.unused = nn.Linear(2, 2)
        self.weight = nn.Parameter(autodiff.ones(3))

    def forward(self, x):
        return self.sub(x) * self.weight + x


def test_symbolic_trace_module_graph_and_code():
    gm = fx.symbolic_trace(Net())
    assert str(gm.graph) == """graph():
    %x : [num_users=2] = placeholder[target=x]
    %sub_linear : [num_users=1] = call_module[target=sub.linear](args = (%x,), kwargs = {})
    %relu : [num_users=1] = call_method[target=relu](args = (%sub_linear,), kwargs = {})
    %weight : [num_users=1] = get_attr[target=weight]
    %mul : [num_users=1] = call_function[target=operator.mul](args = (%relu, %weight), kwargs = {})
    %add : [num_users=1] = call_function[target=operator.add](args = (%mul, %x), kwargs = {})
    return add"""
    assert gm.code == """


def forward(self, x):
    sub_linear = self.sub.linear(x)
    relu = sub_linear.relu();  sub_linear = None
    weight = self.weight
    mul = relu * weight;  relu = weight = None
    add = mul + x;  mul = x = None
    return add
    """
    assert type(gm).__name__ == "Net"
    assert isinstance(gm, fx.GraphModule)
    # only what the graph uses is copied over
    assert sorted(name for name, _ in gm.named_children()) == ["sub"]
    x = autodiff.randn(2, 3)
    assert autodiff.allclose(gm(x), Net()(x))
    assert list(gm.state_dict()) == ["weight", "sub.linear.weight", "sub.linear.bias"]


def test_custom_tracer_leaf_modules():
    class Leaves(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return isinstance(m, Sub) or super().is_leaf_module(m, qualname)

    graph = Leaves().trace(Net())
    assert [n.op for n in graph.nodes] == ["placeholder", "call_module", "get_attr",
                                          "call_function", "call_function", "output"]
    assert [n.target for n in graph.nodes if n.op == "call_module"] == ["sub"]


def test_tensor_constants_become_attributes():
    constant = autodiff.arange(3.0)

    class WithConstant(nn.Module):
        def forward(self, x):
            return x + constant

    gm = fx.symbolic_trace(WithConstant())
    assert "_tensor_constant0 = self._tensor_constant0" in gm.code
    assert gm._tensor_constant0 is constant
    assert autodiff.equal(gm(autodiff.zeros(3)), constant)


def test_control_flow_raises_trace_error():
    def branch(x):
        if x.sum() > 0:
            return x
        return -x

    with pytest.raises(TraceError, match=r"^symbolically traced variables cannot be used as "
                                         r"inputs to control flow$"):
        fx.symbolic_trace(branch)

    def loop(x):
        return [y for y in x]

    with pytest.raises(TraceError, match="^Proxy object cannot be iterated. This can be "
                                         "attempted when the Proxy is used in a loop or as a "
                                         r"\*args or \*\*kwargs function argument."):
        fx.symbolic_trace(loop)

    def length(x):
        return len(x)

    with pytest.raises(RuntimeError, match=r"^'len' is not supported in symbolic tracing by "
                                           r"default. If you want this call to be recorded, "
                                           r"please call torch.fx.wrap\('len'\) at module "
                                           "scope$"):
        fx.symbolic_trace(length)


def test_concrete_args_specialize_and_ph():
    def f(x, flag):
        if flag:
            return x.relu()
        return x.neg()

    gm = fx.symbolic_trace(f, concrete_args={"flag": False})
    assert [n.op for n in gm.graph.nodes].count("placeholder") == 2
    assert any(n.target is operator.eq for n in gm.graph.nodes)
    x = autodiff.randn(4)
    assert autodiff.equal(gm(x, False), -x)
    with pytest.raises(AssertionError, match="flag has been specialized to have value False"):
        gm(x, True)

    def g(x, y):
        return x + y

    gm = fx.symbolic_trace(g, concrete_args={"y": fx.PH})
    assert [n.target for n in gm.graph.nodes if n.op == "placeholder"] == ["x", "y_1"]

    def h(x, y=None):
        return x if y is None else x + y

    gm = fx.symbolic_trace(h, concrete_args={"y": None})
    assert "_assert_is_none" in gm.code
    assert autodiff.equal(gm(x, None), x)


def test_trace_default_and_varargs_placeholders():
    def f(x, *args, scale=2.0, **kwargs):
        return x * scale

    gm = fx.symbolic_trace(f)
    assert "def forward(self, x, scale = 2.0, *args, **kwargs):" in gm.code
    assert autodiff.equal(gm(autodiff.ones(2)), autodiff.full((2,), 2.0))


def test_graph_building_and_editing():
    graph = fx.Graph()
    x = graph.placeholder("x")
    relu = graph.call_method("relu", (x,))
    neg = graph.call_function(operator.neg, (relu,))
    graph.output(neg)
    assert [n.name for n in graph.nodes] == ["x", "relu", "neg", "output"]
    assert len(graph.nodes) == 4
    assert [n.name for n in reversed(graph.nodes)] == ["output", "neg", "relu", "x"]
    assert relu.users == {neg: None}
    assert neg.all_input_nodes == [relu]

    with graph.inserting_after(relu):
        doubled = graph.call_function(operator.mul, (relu, 2))
    neg.replace_input_with(relu, doubled)
    assert [n.name for n in graph.nodes] == ["x", "relu", "mul", "neg", "output"]
    assert neg.args == (doubled,)
    assert relu.users == {doubled: None}

    with graph.inserting_before(neg):
        exp = graph.call_method("exp", (doubled,))
    uses = doubled.replace_all_uses_with(exp, delete_user_cb=lambda user: user is neg)
    assert uses == [neg]
    assert neg.args == (exp,)
    graph.lint()
    gm = fx.GraphModule(nn.Module(), graph)
    assert gm.code.strip().splitlines()[1:] == [
        "    relu = x.relu();  x = None",
        "    mul = relu * 2;  relu = None",
        "    exp = mul.exp();  mul = None",
        "    neg = -exp;  exp = None",
        "    return neg",
    ]
    t = autodiff.tensor([-1.0, 0.5])
    assert autodiff.allclose(gm(t), -(t.relu() * 2).exp())


def test_erase_node_and_dead_code():
    graph = fx.Graph()
    x = graph.placeholder("x")
    unused = graph.call_method("exp", (x,))
    used = graph.call_method("neg", (x,))
    graph.output(used)
    with pytest.raises(RuntimeError, match="^Tried to erase Node x but it still had 2 users in "
                                           r"the graph: \{exp: None, neg: None\}!$"):
        graph.erase_node(x)
    assert graph.eliminate_dead_code()
    assert [n.name for n in graph.nodes] == ["x", "neg", "output"]
    assert unused._erased and x.users == {used: None}
    assert not graph.eliminate_dead_code()
    with pytest.warns(UserWarning, match="on an already erased node"):
        graph.erase_node(unused)

    # a random draw is kept: it advances a generator
    graph = fx.Graph()
    graph.call_function(autodiff.rand, (3,))
    graph.output(None)
    assert not graph.eliminate_dead_code()


def test_erase_while_iterating():
    gm = fx.symbolic_trace(lambda x: x.relu().neg().exp())
    for node in gm.graph.nodes:
        if node.op == "call_method" and node.target == "neg":
            node.replace_all_uses_with(node.args[0])
            gm.graph.erase_node(node)
    gm.recompile()
    assert [n.name for n in gm.graph.nodes] == ["x", "relu", "exp", "output"]
    t = autodiff.tensor([1.0, -2.0])
    assert autodiff.allclose(gm(t), t.relu().exp())


def test_lint_errors():
    graph = fx.Graph()
    x = graph.placeholder("x")
    a = graph.call_method("relu", (x,))
    b = graph.call_method("neg", (a,))
    graph.output(b)
    a.prepend(b)  # b now comes before the value it uses
    message = ("Argument 'relu' of Node 'neg' was used before it has been defined! Please check "
               "that Nodes in the graph are topologically ordered")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        graph.lint()

    other = fx.Graph()
    y = other.placeholder("y")
    foreign = fx.Graph()
    foreign.call_method("neg", (y,))
    with pytest.raises(RuntimeError, match=r"^Argument 'y' of Node 'neg' does not belong to "
                                           r"this Graph"):
        foreign.lint()

    gm = fx.symbolic_trace(Net())
    gm.graph.call_module("missing", ())
    with pytest.raises(RuntimeError, match="references nonexistent attribute missing of"):
        gm.graph.lint()


def test_node_copy_graph_copy_and_deepcopy():
    gm = fx.symbolic_trace(lambda x, y: (x + y).relu())
    new_graph = fx.Graph()
    env = {}
    for node in gm.graph.nodes:
        env[node] = new_graph.node_copy(node, lambda n: env[n])
    assert str(new_graph) == str(gm.graph)

    copied = fx.Graph()
    val_map = {}
    out = copied.graph_copy(gm.graph, val_map)
    copied.output(out)
    assert str(copied) == str(gm.graph)
    assert all(val_map[n].graph is copied for n in val_map)

    deep = copy.deepcopy(gm.graph)
    assert str(deep) == str(gm.graph)
    assert all(n.graph is deep for n in deep.nodes)


def test_node_api():
    gm = fx.symbolic_trace(lambda x: x.sum(dim=0, keepdim=True) + x)
    x, summed, add, output = gm.graph.nodes
    assert (x.op, summed.op, add.op, output.op) == ("placeholder", "call_method",
                                                    "call_function", "output")
    assert summed.kwargs == {"dim": 0, "keepdim": True}
    assert add.target is operator.add
    assert summed.next is add and add.prev is summed
    assert x.format_node() == "%x : [num_users=2] = placeholder[target=x]"
    assert summed.format_node() == ("%sum_1 : [num_users=1] = call_method[target=sum](args = "
                                    "(%x,), kwargs = {dim: 0, keepdim: True})")
    assert output.format_node() == "return add"
    summed.meta["note"] = 1
    assert summed.meta == {"note": 1}
    with pytest.raises(TypeError, match="'immutable_dict' object does not support mutation"):
        summed.kwargs["dim"] = 1
    summed.update_kwarg("dim", 1)
    assert summed.kwargs["dim"] == 1
    summed.update_arg(0, add)
    assert summed.all_input_nodes == [add] and x.users == {add: None}
    assert fx.map_arg((x, [add, {"k": 3}]), lambda n: n.name) == ("x", ["add", {"k": 3}])
    assert map_aggregate((1, [2, slice(3, 4)]), lambda v: v and v * 10) == (10, [20, slice(30, 40)])


def test_prepend_append_move_nodes():
    gm = fx.symbolic_trace(lambda x: (x.relu(), x.neg(), x.exp()))
    _, relu, neg, exp, _ = gm.graph.nodes
    relu.prepend(exp)
    assert [n.name for n in gm.graph.nodes] == ["x", "exp", "relu", "neg", "output"]
    neg.append(exp)
    assert [n.name for n in gm.graph.nodes] == ["x", "relu", "neg", "exp", "output"]
    relu.prepend(relu)  # a node before itself: nothing moves
    assert [n.name for n in gm.graph.nodes] == ["x", "relu", "neg", "exp", "output"]


def test_graph_module_recompile_and_code():
    gm = fx.symbolic_trace(lambda x: x + 1)
    for node in gm.graph.nodes:
        if node.target is operator.add:
            node.target = operator.mul
    assert "x + 1" in gm.code  # until recompiled
    gm.recompile()
    assert "mul = x * 1" not in gm.code and "add = x * 1" in gm.code
    assert autodiff.equal(gm(autodiff.tensor([3.0])), autodiff.tensor([3.0]))


def test_graph_module_from_dict_and_submodules():
    graph = fx.Graph()
    x = graph.placeholder("x")
    y = graph.call_module("layers.first", (x,))
    graph.output(y)
    linear = nn.Linear(2, 2)
    gm = fx.GraphModule({"layers.first": linear}, graph)
    assert gm.layers.first is linear
    assert gm.code.splitlines()[4] == "    layers_first = self.layers.first(x);  x = None"
    with pytest.raises(RuntimeError, match=re.escape("referenced target layers.first but that "
                                                     "target was not provided in ``root``!")):
        fx.GraphModule({}, graph)

    assert gm.add_submodule("extra.deep", nn.ReLU())
    assert isinstance(gm.extra.deep, nn.ReLU)
    gm.delete_all_unused_submodules()
    assert sorted(name for name, _ in gm.named_modules()) == ["", "layers", "layers.first"]
    assert not gm.delete_submodule("nothing.here")
    assert gm.delete_submodule("layers.first")


def test_get_attr_and_call_module_warn_without_reference():
    gm = fx.symbolic_trace(Net())
    with pytest.warns(UserWarning, match="Attempted to insert a get_attr Node with no "
                                         "underlying reference in the owning GraphModule!"):
        gm.graph.get_attr("nothing")
    with pytest.warns(UserWarning, match="Attempted to insert a call_module Node with no "
                                         "underlying reference"):
        gm.graph.call_module("nothing")


def test_print_readable():
    gm = fx.symbolic_trace(Net())
    text = gm.print_readable(print_output=False)
    assert text.splitlines()[:3] == [
        "class Net(torch.nn.Module):",
        "    def forward(self, x):",
        "        # No stacktrace found for following nodes",
    ]
    assert str(gm).endswith("# To see more debug info, please use "
                            "`graph_module.print_readable()`")


def test_deepcopy_and_pickle_graph_module():
    gm = fx.symbolic_trace(Net())
    x = autodiff.randn(2, 3)
    expected = gm(x)
    deep = copy.deepcopy(gm)
    assert deep.code == gm.code
    assert deep.sub.linear.weight is not gm.sub.linear.weight
    assert autodiff.allclose(deep(x), expected)
    assert type(deep).__name__ == "GraphModule"

    loaded = pickle.loads(pickle.dumps(gm))
    assert loaded.code == gm.code
    assert str(loaded.graph) == str(gm.graph)
    assert autodiff.allclose(loaded(x), expected)

    shallow = copy.copy(gm)
    assert shallow.sub.linear is gm.sub.linear


def test_error_in_generated_code_names_the_line(capsys):
    gm = fx.symbolic_trace(lambda x, y: x @ y)
    with pytest.raises(RuntimeError):
        gm(autodiff.ones(2, 3), autodiff.ones(2, 3))
    err = capsys.readouterr().err
    assert "Call using an FX-traced Module, line 5 of the traced Module's generated forward " \
           "function:" in err
    assert "matmul = x @ y" in err and "<--- HERE" in err


def test_interpreter_and_overrides():
    gm = fx.symbolic_trace(Net())
    x = autodiff.randn(2, 3)
    assert autodiff.allclose(fx.Interpreter(gm).run(x), gm(x))

    class NegateRelu(fx.Interpreter):
        def call_method(self, target, args, kwargs):
            if target == "relu":
                return super().call_method("neg", args, kwargs)
            return super().call_method(target, args, kwargs)

    sub_out = gm.sub.linear(x)
    assert autodiff.allclose(NegateRelu(gm).run(x), -sub_out * gm.weight + x)
    with pytest.raises(RuntimeError, match=re.escape("Expected positional argument for parameter "
                                                     "x, but one was not passed in!")):
        fx.Interpreter(gm).run()
    values = [x]
    assert autodiff.allclose(fx.Interpreter(gm).boxed_run(values), gm(x))
    assert values == []


def test_transformer_rewrites():
    class ReluToSigmoid(fx.Transformer):
        def call_method(self, target, args, kwargs):
            if target == "relu":
                target = "sigmoid"
            return super().call_method(target, args, kwargs)

    gm = fx.symbolic_trace(Net())
    new = ReluToSigmoid(gm).transform()
    assert "sigmoid = sub_linear.sigmoid();  sub_linear = None" in new.code
    x = autodiff.randn(2, 3)
    assert autodiff.allclose(new(x), gm.sub.linear(x).sigmoid() * gm.weight + x)
    noop = fx.Transformer(gm).transform()
    assert noop.code == gm.code


def test_shape_prop():
    from autodiff.fx.passes.shape_prop import ShapeProp, TensorMetadata

    gm = fx.symbolic_trace(Net())
    ShapeProp(gm).propagate(autodiff.randn(5, 3))
    metas = {n.name: n.meta.get("tensor_meta") for n in gm.graph.nodes}
    assert isinstance(metas["add"], TensorMetadata)
    assert tuple(metas["add"].shape) == (5, 3)
    assert metas["add"].dtype == autodiff.float32
    assert metas["add"].requires_grad
    assert metas["add"].stride == (3, 1)
    assert metas["add"].memory_format == autodiff.contiguous_format
    assert metas["output"] == metas["add"]
    assert gm.graph.find_nodes(op="get_attr")[0].meta["type"] is nn.Parameter


def test_replace_pattern():
    def f(x):
        return x.exp().neg() + x.exp().neg().abs()

    def pattern(x):
        return x.exp().neg()

    def replacement(x):
        return x.sigmoid()

    gm = fx.symbolic_trace(f)
    matches = fx.replace_pattern(gm, pattern, replacement)
    assert len(matches) == 2
    x = autodiff.randn(4)
    assert autodiff.allclose(gm(x), x.sigmoid() + x.sigmoid().abs())

    def g(x):
        a = x.exp()
        return a.neg() + a  # exp escapes the pattern: no match
    gm = fx.symbolic_trace(g)
    assert fx.replace_pattern(gm, pattern, replacement) == []


def test_wrap_and_math_autowrap():
    from tests.fx import cases
    gm = fx.symbolic_trace(cases.wrapped_call(autodiff))
    assert gm.code.startswith('\ntorch.fx._symbolic_trace.wrap("tests_fx_cases_wrapped_norm")')
    x, y = autodiff.ones(2), autodiff.full((2,), 2.0)
    assert autodiff.equal(gm(x, y), autodiff.full((2,), 5.0))
    node = next(n for n in gm.graph.nodes if n.op == "call_function")
    assert node.meta["is_wrapped"]
    assert cases.wrapped_norm is not None and cases.wrapped_norm(x, y) is not None

    gm = fx.symbolic_trace(cases.math_autowrap(autodiff))
    assert "sqrt = math_sqrt(size);  size = None" in gm.code
    assert autodiff.allclose(gm(autodiff.full((4,), 2.0)), autodiff.ones(4))

    with pytest.raises(NotImplementedError, match="wrap must be called at the top level of a "
                                                  "module"):
        fx.wrap("len")


def test_param_shapes_constant():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(autodiff.ones(3, 2))

        def forward(self, x):
            if self.weight.shape[0] == 3:
                return x @ self.weight
            return x

    with pytest.raises(TraceError):
        fx.symbolic_trace(Branchy())
    graph = fx.Tracer(param_shapes_constant=True).trace(Branchy())
    assert [n.op for n in graph.nodes] == ["placeholder", "get_attr", "call_function",
                                          "output"]


def test_proxy_on_raw_node_appends_to_graph():
    graph = fx.Graph()
    x = fx.Proxy(graph.placeholder("x"))
    y = (x * 2).relu()
    graph.output(y.node)
    assert [n.name for n in graph.nodes] == ["x", "mul", "relu", "output"]
    assert repr(y) == "Proxy(relu)"


def test_print_tabular():
    graph = fx.symbolic_trace(lambda x: x + 1).graph
    try:
        import tabulate  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            graph.print_tabular()
        return
    graph.print_tabular()


def test_names_avoid_builtins_and_keywords():
    graph = fx.Graph()
    a = graph.placeholder("input")
    b = graph.call_method("sum", (a,))
    c = graph.call_method("sum", (b,))
    d = graph.call_function(getattr, (c, "shape"))
    graph.output(d)
    assert [n.name for n in graph.nodes] == ["input_1", "sum_1", "sum_2", "getattr_1",
                                            "output"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = fx.GraphModule(nn.Module(), graph).code
    assert "def forward(self, input):" in code and "input_1 = input" in code


def test_torch_function_records_autodiff_functions():
    import autodiff.nn.functional as F

    def f(x, w):
        h = F.linear(x, w)
        h = autodiff.relu(h) + autodiff.add(h, 1, alpha=2)
        return F.softmax(h, dim=-1), autodiff.Tensor.sum(h, 0)

    gm = fx.symbolic_trace(f)
    calls = [(n.op, n.target) for n in gm.graph.nodes if n.op.startswith("call")]
    assert calls == [("call_function", F.linear), ("call_function", autodiff.relu),
                     ("call_function", autodiff.add), ("call_function", operator.add),
                     ("call_function", F.softmax), ("call_method", "sum")]
    assert "add = torch.add(linear, 1, alpha = 2)" in gm.code
    assert "linear = torch.nn.functional.linear(x, w);  x = w = None" in gm.code
    x, w = autodiff.randn(2, 3), autodiff.randn(4, 3)
    for got, expected in zip(gm(x, w), f(x, w)):
        assert autodiff.allclose(got, expected)


def test_torch_function_aliases_keep_their_names():
    gm = fx.symbolic_trace(lambda x: autodiff.arctan(autodiff.absolute(x)))
    assert [n.name for n in gm.graph.nodes] == ["x", "absolute", "arctan", "output"]
    assert "arctan = torch.arctan(absolute);  absolute = None" in gm.code


def test_torch_function_refuses_two_tracers():
    graph_a, graph_b = fx.Graph(), fx.Graph()
    a = fx.Proxy(graph_a.placeholder("a"))
    b = fx.Proxy(graph_b.placeholder("b"))
    with pytest.raises(RuntimeError, match=r"^Found multiple different tracers"):
        autodiff.add(a, b)


def test_wrapped_builtin_len():
    from tests.fx import cases
    gm = fx.symbolic_trace(cases.wrapped_len(autodiff))
    assert [n.target for n in gm.graph.nodes if n.op == "call_function"] == [len, operator.mul]
    assert "len_1 = len(x)" in gm.code
    assert autodiff.equal(gm(autodiff.ones(3)), autodiff.full((3,), 3.0))


def test_recorded_stack_traces_summarised_in_readable_code():
    class Recording(fx.Tracer):
        record_stack_traces = True

    module = Net()
    gm = fx.GraphModule(module, Recording().trace(module))
    traces = [n.stack_trace for n in gm.graph.nodes if n.op == "call_module"]
    assert traces[0].splitlines()[-1].strip() == "return self.linear(x).relu()"
    assert "autodiff/fx" not in traces[0]
    lines = gm.print_readable(print_output=False).splitlines()
    assert lines[2].startswith("        # File: ") and lines[2].endswith(
        " in forward, code: return self.linear(x).relu()")


def test_tensor_on_the_left_of_a_proxy():
    constant = autodiff.arange(3.0)
    gm = fx.symbolic_trace(lambda x: constant * x + constant.add(x))
    methods = [n.target for n in gm.graph.nodes if n.op == "call_method"]
    assert methods[1] == "add" and methods[0] in ("mul", "__mul__")
    x = autodiff.ones(3)
    assert autodiff.equal(gm(x), constant * x + constant.add(x))
