"""autodiff.fx against torch.fx: the same programs (tests/fx/cases.py) traced by both give the
same graph printout, the same generated code and the same results."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.fx as fx
from tests.fx import cases

torch = pytest.importorskip("torch")
torch_fx = pytest.importorskip("torch.fx")

# torch_fx.wrap must run at a module's top level, in the module whose name it wraps.
exec("import torch.fx\ntorch.fx.wrap('wrapped_norm')\ntorch.fx.wrap('len')", cases.__dict__)


def inputs(lib, name):
    rng = np.random.default_rng(0)
    shape = {"operators": (3, 3), "constants": (2, 3), "containers_of_modules": (2, 3)}.get(
        name, (2, 4))
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    return lib.tensor(x, dtype=lib.float32), lib.tensor(y, dtype=lib.float32)


def call(name, gm, x, y):
    if name in ("operators", "wrapped_call", "functions"):
        return gm(x, y)
    return gm(x)


def flat(value):
    if isinstance(value, dict):
        return flat(list(value.values()))
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in flat(part)]
    if hasattr(value, "detach"):
        return [value.detach().numpy()]
    return [np.asarray(value)]


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_graph_and_code_match_torch(name):
    ours = fx.symbolic_trace(cases.CASES[name](autodiff))
    theirs = torch_fx.symbolic_trace(cases.CASES[name](torch))
    assert str(ours.graph) == str(theirs.graph)
    assert ours.code == theirs.code


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_results_match_torch(name):
    make = cases.CASES[name]
    ours = fx.symbolic_trace(make(autodiff))
    theirs = torch_fx.symbolic_trace(make(torch))
    if name in ("modules", "containers_of_modules"):  # the same weights in both
        theirs.load_state_dict({k: torch.tensor(v.detach().numpy())
                                for k, v in ours.state_dict().items()})
    got = flat(call(name, ours, *inputs(autodiff, name)))
    expected = flat(call(name, theirs, *inputs(torch, name)))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_print_readable_and_str_match_torch():
    ours = fx.symbolic_trace(cases.modules(autodiff))
    theirs = torch_fx.symbolic_trace(cases.modules(torch))
    assert ours.print_readable(print_output=False) == theirs.print_readable(print_output=False)
    assert str(ours).split("\n", 1)[0] == str(theirs).split("\n", 1)[0]
    assert str(ours).endswith(str(theirs)[str(theirs).index("\n\n\n"):])


def test_shape_prop_annotations_match_torch():
    TorchShapeProp = pytest.importorskip("torch.fx.passes.shape_prop").ShapeProp

    from autodiff.fx.passes.shape_prop import ShapeProp
    ours = fx.symbolic_trace(cases.modules(autodiff))
    theirs = torch_fx.symbolic_trace(cases.modules(torch))
    ShapeProp(ours).propagate(autodiff.ones(2, 4))
    TorchShapeProp(theirs).propagate(torch.ones(2, 4))
    assert ours.print_readable(print_output=False) == theirs.print_readable(print_output=False)
    for a, b in zip(ours.graph.nodes, theirs.graph.nodes):
        if "tensor_meta" not in b.meta:
            assert "tensor_meta" not in a.meta
            continue
        meta, expected = a.meta["tensor_meta"], b.meta["tensor_meta"]
        assert tuple(meta.shape) == tuple(expected.shape)
        assert str(meta.dtype) == str(expected.dtype)
        assert meta.requires_grad == expected.requires_grad
        assert tuple(meta.stride) == tuple(expected.stride)
        assert str(meta.memory_format) == str(expected.memory_format)


def test_concrete_args_match_torch():
    def make(lib):
        def f(x, flag):
            if flag:
                return x.relu()
            return x.neg()
        return f

    import warnings
    ours = fx.symbolic_trace(make(autodiff), concrete_args={"flag": True})
    theirs = torch_fx.symbolic_trace(make(torch), concrete_args={"flag": True})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert str(ours.graph) == str(theirs.graph)
    assert ours.code == theirs.code


def test_subgraph_rewriter_matches_torch():
    def make(lib):
        def f(x, w):
            a = x.relu().neg()
            b = (a + w).relu().neg()
            return b * 2

        def pattern(x):
            return x.relu().neg()

        def replacement(x):
            return x.sigmoid()

        return f, pattern, replacement

    f, pattern, replacement = make(autodiff)
    ours = fx.symbolic_trace(f)
    matches = fx.replace_pattern(ours, pattern, replacement)
    tf, tpattern, treplacement = make(torch)
    theirs = torch_fx.symbolic_trace(tf)
    their_matches = torch_fx.replace_pattern(theirs, tpattern, treplacement)
    assert len(matches) == len(their_matches) == 2
    assert [m.anchor.name for m in matches] == [m.anchor.name for m in their_matches]
    assert str(ours.graph) == str(theirs.graph)
    assert ours.code == theirs.code


def test_transformer_matches_torch():
    import operator

    def make(lib, module):
        class AddToMul(module.Transformer):
            def call_function(self, target, args, kwargs):
                if target is operator.add:
                    target = operator.mul
                return super().call_function(target, args, kwargs)

        def f(x, y):
            return (x + y).relu() + 1
        return AddToMul, f

    ours_cls, f = make(autodiff, fx)
    ours = ours_cls(fx.symbolic_trace(f)).transform()
    theirs_cls, tf = make(torch, torch.fx)
    theirs = theirs_cls(torch_fx.symbolic_trace(tf)).transform()
    assert ours.code == theirs.code
    assert str(ours.graph) == str(theirs.graph)


def test_graph_built_by_hand_matches_torch():
    import operator

    def build(module):
        graph = module.Graph()
        x = graph.placeholder("x")
        w = graph.get_attr("weight")
        mm = graph.call_method("matmul", (x, w))
        total = graph.call_function(operator.add, (mm, 1.5), name="total")
        graph.output((total, [mm, {"k": x}]))
        return graph

    ours, theirs = build(fx), build(torch.fx)
    assert str(ours) == str(theirs)
    assert ours.python_code("self").src == theirs.python_code("self").src
    node = next(iter(ours.nodes))
    their_node = next(iter(theirs.nodes))
    assert node.format_node() == their_node.format_node()


def test_print_readable_annotations_match_torch():
    def readable(lib, module):
        gm = module.symbolic_trace(cases.modules(lib))
        for node in gm.graph.nodes:
            if node.op not in ("placeholder", "output"):
                node.meta["val"] = lib.ones(2, 3)
        return gm.print_readable(print_output=False, include_stride=True, include_device=True,
                                 colored=True)

    assert readable(autodiff, fx) == readable(torch, torch_fx)
