"""autodiff.functorch: the names PyTorch ships in its separate `functorch` package that torch.func
does not hold; `autodiff.functorch.dim` is `functorch.dim` (first-class dimensions)."""
