"""`autodiff.cpu` (torch.cpu): its `amp` module, the deprecated CPU spellings of autodiff.amp."""
