"""Ops, grouped by family. Each op is one `Function` subclass with the public function right
below it; `Tensor`'s methods call those functions."""
