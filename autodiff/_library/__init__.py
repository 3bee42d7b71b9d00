"""torch._library: the machinery behind `autodiff.library` (schemas, operators, custom ops,
their autograd kernels, opcheck)."""
