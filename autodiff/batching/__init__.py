"""vmap's batching machinery, below the transforms of `autodiff.func`: the open levels
(`levels.py`), `BatchedTensor` (`batched_tensor.py`), the dispatch from `Function.apply` and
the decorators for ops written in Python (`dispatch.py`), and the batching rules (`rules.py`)."""
