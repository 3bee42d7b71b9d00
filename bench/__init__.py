"""Benchmarks: autodiff against the hand-written NumPy/CuPy limit (and PyTorch when installed).

    python -m bench                 # the full CPU run (about ten minutes)
    python -m bench --quick         # a minute: fewer rounds, no 2048^3
    pytest bench/ --benchmark-enable
"""
