# Adapted from pytorch/tutorials, recipes_source/recipes/benchmark.py ("PyTorch Benchmark").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose and sample outputs are
# left out; the CUDA runs are left out (no GPU); sizes shrunk (x is 1000x64, the Compare grid
# 1/64/256 by 1/64/256 on 1 and 2 threads, the fuzzers' tensors at most 100000 elements and
# 3 of each), timeit's 100 runs are 10 and min_run_time 1 is 0.02; section 8 (C++ extensions
# and Callgrind instruction counts: PyTorch's C++ library and valgrind) is left out; the
# `from __main__ import` setups become globals (the runner does not run the program as the
# `__main__` module's file); the built-in BinaryOpFuzzer is left out (PyTorch 2.13's own stops
# on it: "Distribution is not normalized", its {1: 0.3, 2: 0.4, 3: 0.3} summing to 0.999...);
# assertions at the end.
import pickle
import timeit
from itertools import product

import autodiff as torch


def batched_dot_mul_sum(a, b):
    '''Computes batched dot by multiplying and summing'''
    return a.mul(b).sum(-1)


def batched_dot_bmm(a, b):
    '''Computes batched dot by reducing to ``bmm``'''
    a = a.reshape(-1, 1, a.shape[-1])
    b = b.reshape(-1, b.shape[-1], 1)
    return torch.bmm(a, b).flatten(-3)


FUNCTIONS = {'batched_dot_mul_sum': batched_dot_mul_sum, 'batched_dot_bmm': batched_dot_bmm}

# Input for benchmarking
x = torch.randn(1000, 64)

# Ensure that both functions compute the same output
assert batched_dot_mul_sum(x, x).allclose(batched_dot_bmm(x, x))

# 2. Benchmarking with timeit.Timer
t0 = timeit.Timer(
    stmt='batched_dot_mul_sum(x, x)',
    globals={'x': x, **FUNCTIONS})

t1 = timeit.Timer(
    stmt='batched_dot_bmm(x, x)',
    globals={'x': x, **FUNCTIONS})

print(f'mul_sum(x, x):  {t0.timeit(10) / 10 * 1e6:>5.1f} us')
print(f'bmm(x, x):      {t1.timeit(10) / 10 * 1e6:>5.1f} us')

# 3. Benchmarking with torch.utils.benchmark.Timer
import autodiff.utils.benchmark as benchmark

t0 = benchmark.Timer(
    stmt='batched_dot_mul_sum(x, x)',
    globals={'x': x, **FUNCTIONS})

t1 = benchmark.Timer(
    stmt='batched_dot_bmm(x, x)',
    globals={'x': x, **FUNCTIONS})

print(t0.timeit(10))
print(t1.timeit(10))

num_threads = torch.get_num_threads()
print(f'Benchmarking on {num_threads} threads')

t0 = benchmark.Timer(
    stmt='batched_dot_mul_sum(x, x)',
    globals={'x': x, **FUNCTIONS},
    num_threads=num_threads,
    label='Multithreaded batch dot',
    sub_label='Implemented using mul and sum')

t1 = benchmark.Timer(
    stmt='batched_dot_bmm(x, x)',
    globals={'x': x, **FUNCTIONS},
    num_threads=num_threads,
    label='Multithreaded batch dot',
    sub_label='Implemented using bmm')

print(t0.timeit(10))
print(t1.timeit(10))

# 4. Benchmarking with Blocked Autorange
m0 = t0.blocked_autorange(min_run_time=0.02)
m1 = t1.blocked_autorange(min_run_time=0.02)

print(m0)
print(m1)

print(f"Mean:   {m0.mean * 1e6:6.2f} us")
print(f"Median: {m0.median * 1e6:6.2f} us")

# 5. Comparing benchmark results
results = []

sizes = [1, 64, 256]
for b, n in product(sizes, sizes):
    # label and sub_label are the rows
    # description is the column
    label = 'Batched dot'
    sub_label = f'[{b}, {n}]'
    x = torch.ones((b, n))
    for num_threads in [1, 2]:
        results.append(benchmark.Timer(
            stmt='batched_dot_mul_sum(x, x)',
            globals={'x': x, **FUNCTIONS},
            num_threads=num_threads,
            label=label,
            sub_label=sub_label,
            description='mul/sum',
        ).blocked_autorange(min_run_time=0.02))
        results.append(benchmark.Timer(
            stmt='batched_dot_bmm(x, x)',
            globals={'x': x, **FUNCTIONS},
            num_threads=num_threads,
            label=label,
            sub_label=sub_label,
            description='bmm',
        ).blocked_autorange(min_run_time=0.02))

compare = benchmark.Compare(results)
compare.print()

compare.trim_significant_figures()
compare.colorize()
compare.print()

# 6. Saving/Loading benchmark results
ab_test_results = []
for env in ('environment A: mul/sum', 'environment B: bmm'):
    for b, n in ((1, 1), (256, 1000), (1000, 1)):
        x = torch.ones((b, n))
        dot_fn = (batched_dot_mul_sum if env == 'environment A: mul/sum' else batched_dot_bmm)
        m = benchmark.Timer(
            stmt='batched_dot(x, x)',
            globals={'x': x, 'batched_dot': dot_fn},
            num_threads=1,
            label='Batched dot',
            description=f'[{b}, {n}]',
            env=env,
        ).blocked_autorange(min_run_time=0.02)
        ab_test_results.append(pickle.dumps(m))

ab_results = [pickle.loads(i) for i in ab_test_results]
compare = benchmark.Compare(ab_results)
compare.trim_significant_figures()
compare.colorize()
compare.print()

# And just to show that we can round trip all of the results from earlier:
round_tripped_results = pickle.loads(pickle.dumps(results))
assert(str(benchmark.Compare(results)) == str(benchmark.Compare(round_tripped_results)))

# 7. Generating inputs with Fuzzed Parameters
from autodiff.utils.benchmark import FuzzedParameter, FuzzedTensor, Fuzzer

example_fuzzer = Fuzzer(
    parameters = [
        FuzzedParameter('k0', minval=1, maxval=1000, distribution='loguniform'),
        FuzzedParameter('k1', minval=1, maxval=1000, distribution='loguniform'),
    ],
    tensors = [
        FuzzedTensor('x', size=('k0', 'k1'), min_elements=128, max_elements=100000,
                     probability_contiguous=0.6)
    ],
    seed=0,
)

results = []
fuzzed = []
for tensors, tensor_params, params in example_fuzzer.take(3):
    fuzzed.append((tensors, tensor_params, params))
    # description is the column label
    sub_label=(f"{params['k0']:<6} x {params['k1']:<4} "
               f"{'' if tensor_params['x']['is_contiguous'] else '(discontiguous)'}")
    results.append(benchmark.Timer(
        stmt='batched_dot_mul_sum(x, x)',
        globals={**tensors, **FUNCTIONS},
        label='Batched dot',
        sub_label=sub_label,
        description='mul/sum',
    ).blocked_autorange(min_run_time=0.02))
    results.append(benchmark.Timer(
        stmt='batched_dot_bmm(x, x)',
        globals={**tensors, **FUNCTIONS},
        label='Batched dot',
        sub_label=sub_label,
        description='bmm',
    ).blocked_autorange(min_run_time=0.02))

compare = benchmark.Compare(results)
compare.trim_significant_figures()
compare.print()

# -- checks (added for the tests) --
assert m0.mean > 0 and m0.median > 0 and len(m0.times) >= 1
assert m0.label == 'Multithreaded batch dot' and m0.sub_label == 'Implemented using mul and sum'
assert ab_results[3].env == 'environment B: bmm' and ab_results[0].description == '[1, 1]'
table = str(benchmark.Compare(ab_results))
assert 'Batched dot' in table and 'Times are in' in table, table
for tensors, tensor_params, params in fuzzed:
    x = tensors['x']
    assert tuple(x.shape) == (params['k0'], params['k1'])
    assert 128 <= x.numel() <= 100000, x.shape
    assert tensor_params['x']['is_contiguous'] == x.is_contiguous()
