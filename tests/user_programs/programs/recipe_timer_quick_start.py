# Adapted from pytorch/tutorials, recipes_source/recipes/timer_quick_start.py ("Timer quick
# start").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out;
# min_run_time=0.2 instead of 1; sections 3-6 (C++ snippets and Callgrind instruction counts:
# they need PyTorch's C++ library and valgrind) are left out; the measurement is pickled as the
# A/B section does; assertions at the end.
import pickle

import autodiff as torch
from autodiff.utils.benchmark import Timer

timer = Timer(
    # The computation which will be run in a loop and timed.
    stmt="x * y",

    # `setup` will be run before calling the measurement loop, and is used to
    # populate any state which is needed by `stmt`
    setup="""
        x = torch.ones((128,))
        y = torch.ones((128,))
    """,

    # Alternatively, ``globals`` can be used to pass variables from the outer scope.
    #
    #    globals={
    #        "x": torch.ones((128,)),
    #        "y": torch.ones((128,)),
    #    },

    # Control the number of threads that PyTorch uses. (Default: 1)
    num_threads=1,
)

# Measurement objects store the results of multiple repeats, and provide
# various utility features.
from autodiff.utils.benchmark import Measurement

m: Measurement = timer.blocked_autorange(min_run_time=0.2)
print(m)

# -- checks (added for the tests) --
assert isinstance(m, Measurement)
assert m.number_per_run >= 1 and len(m.times) >= 1 and m.median > 0 and m.mean > 0
assert m.iqr >= 0 and m.num_threads == 1 and m.stmt == "x * y"
assert sum(m.raw_times) * 1.0 >= 0.2 * 0.5  # it ran about min_run_time in all
text = str(m)
assert "x * y" in text and "setup:" in text and "Median:" in text and "1 thread" in text, text
again = pickle.loads(pickle.dumps(m))
assert again.median == m.median and again.times == m.times
with_globals = Timer("x * y", globals={"x": torch.ones((128,)), "y": torch.ones((128,))})
assert with_globals.timeit(10).median > 0
