# Adapted from pytorch/tutorials, recipes_source/torch_compiler_set_stance_tutorial.py
# ("torch.compiler.set_stance Tutorial").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the CUDA-event timing left out
# (the eager and compiled results compared instead); the printed results collected;
# assertions at the end.
import autodiff as torch

results = []


@torch.compile
def foo(x):
    if torch.compiler.is_compiling():
        # torch.compile is active
        return x + 1
    else:
        # torch.compile is not active
        return x - 1


inp = torch.zeros(3)

print(foo(inp))  # compiled, prints 1
results.append(foo(inp))


@torch.compiler.set_stance("force_eager")
def bar(x):
    # force disable the compiler
    return foo(x)


print(bar(inp))  # not compiled, prints -1
results.append(bar(inp))

with torch.compiler.set_stance("force_eager"):
    print(foo(inp))  # not compiled, prints -1
    results.append(foo(inp))

torch.compiler.set_stance("force_eager")
print(foo(inp))  # not compiled, prints -1
results.append(foo(inp))
torch.compiler.set_stance("default")

print(foo(inp))  # compiled, prints 1
results.append(foo(inp))

errors = []


@torch.compile
def baz(x):
    # error!
    with torch.compiler.set_stance("force_eager"):
        return x + 1


try:
    baz(inp)
except Exception as e:
    print(e)
    errors.append(e)


@torch.compiler.set_stance("force_eager")
def inner(x):
    return x + 1


@torch.compile
def outer(x):
    # error!
    return inner(x)


try:
    outer(inp)
except Exception as e:
    print(e)
    errors.append(e)


@torch.compile
def my_big_model(x):
    return torch.relu(x)


# first compilation
my_big_model(torch.randn(3))

with torch.compiler.set_stance("fail_on_recompile"):
    my_big_model(torch.randn(3))  # no recompilation - OK
    try:
        my_big_model(torch.randn(4))  # recompilation - error
    except Exception as e:
        print(e)
        errors.append(e)


@torch.compile
def my_huge_model(x):
    if torch.compiler.is_compiling():
        return x + 1
    else:
        return x - 1


# first compilation
print(my_huge_model(torch.zeros(3)))  # 1
huge = [my_huge_model(torch.zeros(3))]

with torch.compiler.set_stance("eager_on_recompile"):
    print(my_huge_model(torch.zeros(3)))  # 1
    print(my_huge_model(torch.zeros(4)))  # -1
    print(my_huge_model(torch.zeros(3)))  # 1
    huge += [my_huge_model(torch.zeros(3)), my_huge_model(torch.zeros(4)),
             my_huge_model(torch.zeros(3))]


@torch.compile
def my_gigantic_model(x, y):
    x = x @ y
    x = x @ y
    x = x @ y
    return x


inps = torch.randn(5, 5), torch.randn(5, 5)

with torch.compiler.set_stance("force_eager"):
    eager = my_gigantic_model(*inps)

# warmups
for _ in range(3):
    my_gigantic_model(*inps)

compiled = my_gigantic_model(*inps)


@torch.compile
def my_humongous_model(x):
    return torch.sin(x, x)


try:
    with torch.compiler.set_stance("force_eager"):
        print(my_humongous_model(torch.randn(3)))
    # this call to the compiled model won't run
    print(my_humongous_model(torch.randn(3)))
except Exception as e:
    print(e)
    errors.append(e)

# -- checks (added for the tests) --
assert [r.tolist() for r in results] == [[1.0] * 3, [-1.0] * 3, [-1.0] * 3, [-1.0] * 3,
                                         [1.0] * 3], results
assert [r.tolist() for r in huge] == [[1.0] * 3, [1.0] * 3, [-1.0] * 4, [1.0] * 3], huge
assert torch.allclose(eager, compiled)
assert not torch.compiler.is_compiling()
assert len(errors) == 4, errors
# set_stance, and a function it decorates, may not run inside a compiled function.
assert all("Attempt to trace forbidden callable" in str(e) for e in errors[:2]), errors
assert "set_stance" in str(errors[0]) and "inner" in str(errors[1]), errors
assert "fail_on_recompile" in str(errors[2]), errors[2]
assert isinstance(errors[3], TypeError), errors[3]
