"""autodiff.fx.experimental (torch.fx.experimental): the exceptions symbolic shapes raise, and
the inference passes of `optimization` (fuse, remove_dropout)."""
