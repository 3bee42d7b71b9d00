# Adapted from pytorch/pytorch, docs/source/notes/extending.md ("Extending PyTorch"): the
# autograd.Function, nn.Module, __torch_function__ and mode examples.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; the doc's snippets gathered into one
# program, each run on small inputs; the doctest outputs turned into assertions (the refusals
# with PyTorch 2's wording); gradcheck of TwoMatmuls left out (it reads saved_tensors once);
# the logging examples collect into lists instead of printing; the dispatch log is checked for
# the ops autodiff's modes see (see there); CHECK lines along the way.
import functools
import inspect
import logging

import autodiff as torch
import autodiff.nn as nn
from autodiff.autograd import Function, gradcheck, gradgradcheck
from autodiff.overrides import TorchFunctionMode, resolve_name
from autodiff.utils._python_dispatch import TorchDispatchMode

torch.manual_seed(0)


# ---- Extending torch.autograd: separate forward and setup_context ----
class LinearFunction(Function):
    @staticmethod
    def forward(input, weight, bias):
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias = inputs
        ctx.save_for_backward(input, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


def linear(input, weight, bias=None):
    return LinearFunction.apply(input, weight, bias)


class MulConstant(Function):
    @staticmethod
    def forward(tensor, constant):
        return tensor * constant

    @staticmethod
    def setup_context(ctx, inputs, output):
        tensor, constant = inputs
        ctx.set_materialize_grads(False)
        ctx.constant = constant

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output is None:
            return None, None
        return grad_output * ctx.constant, None


class TwoMatmuls(Function):
    clear_saved_tensors_on_access = True

    @staticmethod
    def forward(ctx, x, weight1, weight2):
        inter = x.mm(weight1)
        ctx.save_for_backward(x, weight1, inter, weight2)
        return inter.mm(weight2)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight1, inter, weight2 = ctx.saved_tensors
        grad_weight2 = inter.t().mm(grad_output)
        grad_inter = grad_output.mm(weight2.t())
        del inter, weight2
        grad_weight1 = x.t().mm(grad_inter)
        grad_x = grad_inter.mm(weight1.t())
        return grad_x, grad_weight1, grad_weight2


class QKVProjection(Function):
    """Projects input x into Q, K, V: q = x @ w_q, k = x @ w_k, v = x @ w_v."""
    boxed_grads_call = True

    @staticmethod
    def forward(ctx, x, w_q, w_k, w_v):
        ctx.save_for_backward(x, w_q, w_k, w_v)
        return x.mm(w_q), x.mm(w_k), x.mm(w_v)

    @staticmethod
    def backward(ctx, grads):
        x, w_q, w_k, w_v = ctx.saved_tensors
        grad_x = torch.zeros_like(x)
        grad_weights = []
        for i, w in enumerate((w_q, w_k, w_v)):
            grad_out = grads[i]
            grads[i] = None
            grad_x += grad_out.mm(w.t())
            grad_weights.append(x.t().mm(grad_out))
            del grad_out
        return grad_x, *grad_weights


class MyCube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        dx = 3 * x ** 2
        result = x ** 3
        return result, dx

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        result, dx = output
        ctx.save_for_backward(x, dx)

    @staticmethod
    def backward(ctx, grad_output, grad_dx):
        x, dx = ctx.saved_tensors
        result = grad_output * dx + grad_dx * 6 * x
        return result


def my_cube(x):
    result, dx = MyCube.apply(x)
    return result


input = (torch.randn(20, 20, dtype=torch.double, requires_grad=True),
         torch.randn(30, 20, dtype=torch.double, requires_grad=True))
test = gradcheck(linear, input, eps=1e-6, atol=1e-4)
print(test)
assert test

x = torch.randn(4, 3, dtype=torch.double, requires_grad=True)
w = torch.randn(5, 3, dtype=torch.double, requires_grad=True)
b = torch.randn(5, dtype=torch.double, requires_grad=True)
assert gradcheck(linear, (x, w, b))
out = linear(x, w, b)
assert out.grad_fn.name() == "LinearFunctionBackward", out.grad_fn.name()
out.sum().backward()
assert torch.allclose(b.grad, torch.full((5,), 4.0, dtype=torch.double))
assert torch.allclose(x.grad, w.sum(0).expand(4, 3))

c = torch.randn(3, dtype=torch.double, requires_grad=True)
y = MulConstant.apply(c, 2.5)
y.backward(torch.ones(3, dtype=torch.double))
assert torch.allclose(c.grad, torch.full((3,), 2.5, dtype=torch.double))
assert gradcheck(lambda t: MulConstant.apply(t, 3.0), (c,))



def grid(*shape, start=-1.0):
    """Values that do not depend on the random stream (the CHECK lines compare with PyTorch)."""
    count = 1
    for size in shape:
        count *= size
    values = torch.linspace(start, 1.0, count, dtype=torch.double).reshape(shape)
    return values.exp().requires_grad_()


x = grid(4, 3)
w1 = grid(3, 5, start=-0.5)
w2 = grid(5, 2, start=0.2)
out = TwoMatmuls.apply(x, w1, w2)
out.sum().backward()
assert torch.allclose(w1.grad, x.t().mm(torch.ones(4, 2, dtype=torch.double).mm(w2.t())))
try:  # saved_tensors were cleared on their first access
    _ = out.grad_fn.saved_tensors
except RuntimeError as error:
    print(error)
else:
    raise AssertionError("saved_tensors were kept")
print("CHECK two_matmuls_w1_grad", w1.grad.sum().item())

w_q, w_k, w_v = (grid(3, 4, start=start) for start in (-0.9, -0.3, 0.4))
assert gradcheck(QKVProjection.apply, (x, w_q, w_k, w_v))
q, k, v = QKVProjection.apply(x, w_q, w_k, w_v)
(q.sum() + 2 * k.sum() + 3 * v.sum()).backward()
print("CHECK qkv_wv_grad", w_v.grad.sum().item())

x = torch.tensor([1.0, 2.0, -1.5], dtype=torch.double, requires_grad=True)
assert gradcheck(my_cube, (x,))
assert gradgradcheck(my_cube, (x,))
(g,) = torch.autograd.grad(my_cube(x).sum(), x, create_graph=True)
(gg,) = torch.autograd.grad(g.sum(), x)
assert torch.allclose(gg, 6 * x)
print("CHECK my_cube_gg", gg.sum().item())


# ---- Combined forward with ctx ----
class LinearFunctionCombined(Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


x = torch.randn(4, 3, dtype=torch.double, requires_grad=True)
assert gradcheck(LinearFunctionCombined.apply, (x, w))  # bias left at its default
assert gradcheck(LinearFunctionCombined.apply, (x, w, b))


# ---- Extending torch.nn ----
class Linear(nn.Module):
    def __init__(self, input_features, output_features, bias=True):
        super().__init__()
        self.input_features = input_features
        self.output_features = output_features
        self.weight = nn.Parameter(torch.empty(output_features, input_features))
        if bias:
            self.bias = nn.Parameter(torch.empty(output_features))
        else:
            self.register_parameter('bias', None)
        nn.init.uniform_(self.weight, -0.1, 0.1)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -0.1, 0.1)

    def forward(self, input):
        return LinearFunction.apply(input, self.weight, self.bias)

    def extra_repr(self):
        return 'input_features={}, output_features={}, bias={}'.format(
            self.input_features, self.output_features, self.bias is not None
        )


layer = Linear(3, 2)
print(layer)
assert repr(layer) == "Linear(input_features=3, output_features=2, bias=True)", repr(layer)
no_bias = Linear(3, 2, bias=False)
assert [name for name, _ in no_bias.named_parameters()] == ["weight"]
assert "bias" in dict(no_bias.named_parameters(remove_duplicate=False)) or no_bias.bias is None
layer(torch.randn(6, 3)).pow(2).sum().backward()
assert layer.weight.grad.shape == (2, 3) and layer.bias.grad.shape == (2,)


# ---- Extending the torch Python API: a Tensor-like type ----
HANDLED_FUNCTIONS = {}


class ScalarTensor(object):
    def __init__(self, N, value):
        self._N = N
        self._value = value

    def __repr__(self):
        return "ScalarTensor(N={}, value={})".format(self._N, self._value)

    def tensor(self):
        return self._value * torch.eye(self._N)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if kwargs is None:
            kwargs = {}
        if func not in HANDLED_FUNCTIONS or not all(
            issubclass(t, (torch.Tensor, ScalarTensor))
            for t in types
        ):
            return NotImplemented
        return HANDLED_FUNCTIONS[func](*args, **kwargs)


def implements(torch_function):
    """Register a torch function override for ScalarTensor"""
    def decorator(func):
        functools.update_wrapper(func, torch_function)
        HANDLED_FUNCTIONS[torch_function] = func
        return func
    return decorator


@implements(torch.mean)
def mean(input):
    return float(input._value) / input._N


def ensure_tensor(data):
    if isinstance(data, ScalarTensor):
        return data.tensor()
    return torch.as_tensor(data)


@implements(torch.add)
def add(input, other):
    try:
        if input._N == other._N:
            return ScalarTensor(input._N, input._value + other._value)
        else:
            raise ValueError("Shape mismatch!")
    except AttributeError:
        return torch.add(ensure_tensor(input), ensure_tensor(other))


d = ScalarTensor(5, 2)
print(d)
assert torch.equal(d.tensor(), 2 * torch.eye(5))
assert torch.mean(d) == 0.4
s = ScalarTensor(2, 2)
assert repr(torch.add(s, s)) == "ScalarTensor(N=2, value=4)"
t = torch.tensor([[1, 1, ], [1, 1]])
assert torch.equal(torch.add(s, t), torch.tensor([[3., 1.], [1., 3.]]))
try:
    torch.add(s, s, alpha=2)
except TypeError as error:
    print(error)
    assert "unexpected keyword argument 'alpha'" in str(error)
else:
    raise AssertionError("alpha was accepted")
try:
    torch.mul(s, 3)
except TypeError as error:
    print(error)
    # The doc shows an older wording; PyTorch 2 says this.
    assert str(error).startswith("Multiple dispatch failed for 'torch.mul'; all "
                                 "__torch_function__ handlers returned NotImplemented"), str(error)
    assert "ScalarTensor" in str(error)
else:
    raise AssertionError("torch.mul(ScalarTensor) did not raise")


def fallback_torch_function(cls, func, types, args=(), kwargs=None):
    if kwargs is None:
        kwargs = {}
    if func not in HANDLED_FUNCTIONS or not all(
            issubclass(t, (torch.Tensor, ScalarTensor))
            for t in types
    ):
        args = [a.tensor() if hasattr(a, 'tensor') else a for a in args]
        return func(*args, **kwargs)
    return HANDLED_FUNCTIONS[func](*args, **kwargs)


ScalarTensor.__torch_function__ = classmethod(fallback_torch_function)
assert torch.equal(torch.mul(s, s), torch.tensor([[4., 0.], [0., 4.]]))


# ---- Subclassing torch.Tensor ----
class SubTensor(torch.Tensor):
    pass


class SubTensor2(SubTensor):
    pass


class OtherSubTensor(torch.Tensor):
    pass


assert type(torch.add(SubTensor([0]), SubTensor([1]))).__name__ == 'SubTensor'
assert type(torch.add(SubTensor([0]), torch.tensor([1]))).__name__ == 'SubTensor'
assert type(torch.add(SubTensor2([0]), SubTensor([1]))).__name__ == 'SubTensor2'
assert type(torch.add(SubTensor2([0]), torch.tensor([1]))).__name__ == 'SubTensor2'
try:
    torch.add(SubTensor([0]), OtherSubTensor([1]))
except TypeError as error:
    print(error)
    assert str(error).startswith("Multiple dispatch failed for 'torch.add'"), str(error)
else:
    raise AssertionError("two unrelated subclasses were accepted")

logged = []


class ListHandler(logging.Handler):
    def emit(self, record):
        logged.append(record.getMessage())


logging.getLogger().addHandler(ListHandler())
logging.getLogger().setLevel(logging.INFO)


class LoggingTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is not torch.Tensor.__repr__:
            logging.info(f"func: {func.__name__}, args: {args!r}, kwargs: {kwargs!r}")
        if kwargs is None:
            kwargs = {}
        return super().__torch_function__(func, types, args, kwargs)


lt = LoggingTensor([1.0, 2.0])
result = (lt * 2).sum()
assert isinstance(result, LoggingTensor) and result.item() == 6.0
assert any(line.startswith("func: mul,") for line in logged), logged
assert any(line.startswith("func: sum") for line in logged), logged


# ---- A Tensor wrapper type ----
class MetadataTensor(object):
    def __init__(self, data, metadata=None, **kwargs):
        self._t = torch.as_tensor(data, **kwargs)
        self._metadata = metadata

    def __repr__(self):
        return "Metadata:\n{}\n\ndata:\n{}".format(self._metadata, self._t)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if kwargs is None:
            kwargs = {}
        metadatas = tuple(a._metadata for a in args if hasattr(a, '_metadata'))
        args = [getattr(a, '_t', a) for a in args]
        assert len(metadatas) > 0
        ret = func(*args, **kwargs)
        return MetadataTensor(ret, metadata=metadatas[0])


metadata = {'owner': 'Ministry of Silly Walks'}
m = MetadataTensor([[1, 2], [3, 4]], metadata=metadata)
t = torch.tensor([[1, 2], [1, 2]])
added = torch.add(t, m)
print(added)
assert added._metadata is metadata and torch.equal(added._t, torch.tensor([[2, 4], [4, 6]]))
multiplied = torch.mul(t, m)
assert torch.equal(multiplied._t, torch.tensor([[1, 4], [3, 8]]))


# ---- Testing coverage of overrides ----
from autodiff.overrides import (
    get_ignored_functions,
    get_overridable_functions,
    get_testing_overrides,
)

func_dict = get_overridable_functions()
nn_funcs = func_dict[torch.nn.functional]
print([f.__name__ for f in nn_funcs[:5]])
assert "adaptive_avg_pool1d" in [f.__name__ for f in nn_funcs]
override_dict = get_testing_overrides()
dummy_add = override_dict[torch.add]
print(inspect.signature(dummy_add))
assert list(inspect.signature(dummy_add).parameters)[:2] == ["input", "other"]
assert dummy_add(1, 2) == -1
assert torch.tensor in get_ignored_functions()
assert torch.tensor not in override_dict


# ---- Modes ----
function_log = []
dispatch_log = []


class FunctionLog(TorchFunctionMode):
    def __torch_function__(self, func, types, args, kwargs=None):
        function_log.append(resolve_name(func))
        return func(*args, **(kwargs or {}))


class DispatchLog(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args, kwargs=None):
        dispatch_log.append(str(func))
        return func(*args, **(kwargs or {}))


def f():
    a = torch.rand(10, requires_grad=True)
    b = a * 2
    b.sum().backward()
    return a


with FunctionLog():
    a = f()
print(function_log)
assert function_log[:4] == ["torch.rand", "torch.Tensor.mul", "torch.Tensor.sum",
                            "torch.Tensor.backward"], function_log
assert torch.equal(a.grad, torch.full((10,), 2.0))

with DispatchLog():
    a = f()
print(dispatch_log)
# PyTorch's log starts with aten.rand.default and shows the backward's ones_like and detach,
# which autodiff's dispatch modes do not see (factories and the engine's own steps are no ops).
ops = [op for op in dispatch_log if op != "aten.rand.default"]
assert ops[:2] == ["aten.mul.Tensor", "aten.sum.default"], dispatch_log
assert "aten.expand.default" in ops and ops.count("aten.mul.Tensor") == 2, dispatch_log
assert torch.equal(a.grad, torch.full((10,), 2.0))
print("CHECK a_grad_sum", a.grad.sum().item())
