# Adapted from pytorch/examples, fx/profiling_tracer.py.
# Copyright (c) 2017, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the expected tables (string
# literals) are left out; assertions at the end on the ranges each profile shows.
import autodiff as torch
import autodiff.fx


class Foo(torch.nn.Module):
  def forward(self, x):
    with torch.profiler.record_function('foo'):
      return torch.relu(x)

f = Foo()
x = torch.randn(5, 3, 2)
with torch.autograd.profiler.profile() as prof:
  f(x)

print(prof)
eager_names = [event.name for event in prof.function_events]


traced = torch.fx.symbolic_trace(f)
with torch.autograd.profiler.profile() as prof:
  traced(x)

print(prof)
traced_names = [event.name for event in prof.function_events]


class ProfilerTracer(torch.fx.Tracer):
  def trace(self, root, concrete_args=None):
    orig_record_function_enter = torch.autograd.profiler.record_function.__enter__
    orig_record_function_exit = torch.autograd.profiler.record_function.__exit__

    def fake_profiler_enter(_self):
      nonlocal self
      handle_proxy = self.create_proxy(
          kind='call_function',
          target=torch.ops.profiler._record_function_enter,
          args=(_self.name,),
          kwargs={})

      assert getattr(_self, '_fx_profiler_ctx', None) is None
      _self._fx_profiler_ctx = handle_proxy
      return handle_proxy

    def fake_profiler_exit(_self, exc_type, exc_value, traceback):
      assert hasattr(_self, '_fx_profiler_ctx')
      handle_proxy = _self._fx_profiler_ctx
      torch.ops.profiler._record_function_exit(handle_proxy)
      _self._fx_profiler_ctx = None

    torch.autograd.profiler.record_function.__enter__ = fake_profiler_enter
    torch.autograd.profiler.record_function.__exit__ = fake_profiler_exit

    try:
      return super().trace(root, concrete_args)
    finally:
      torch.autograd.profiler.record_function.__enter__ = orig_record_function_enter
      torch.autograd.profiler.record_function.__exit__ = orig_record_function_exit

pt = ProfilerTracer()

graph_with_profiler = pt.trace(f)
traced_with_profiler = torch.fx.GraphModule(pt.root, graph_with_profiler)

with torch.autograd.profiler.profile() as prof:
  traced_with_profiler(x)

print(prof)
profiled_names = [event.name for event in prof.function_events]

print(traced_with_profiler.code)
# The range is in eager code, lost by plain tracing (record_function is not traced), and
# kept by the tracer that emits the profiler ops into the graph.
assert "foo" in eager_names and "aten::relu" in eager_names
assert "foo" not in traced_names and "aten::relu" in traced_names
assert "foo" in profiled_names and "aten::relu" in profiled_names
targets = [node.target for node in graph_with_profiler.nodes if node.op == "call_function"]
assert targets[0] is torch.ops.profiler._record_function_enter, targets
assert torch.ops.profiler._record_function_exit in targets
assert torch.equal(traced_with_profiler(x), torch.relu(x))
