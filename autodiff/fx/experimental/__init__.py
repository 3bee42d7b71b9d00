"""autodiff.fx.experimental (torch.fx.experimental): the exceptions symbolic shapes raise."""
