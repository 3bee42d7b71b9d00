"""Run one user program: `python _runner.py PROGRAM.py autodiff|torch [ARGUMENTS...]`.

The programs say `import autodiff as torch` (and `from autodiff import nn`, ...). Run as
"autodiff" they import this checkout's autodiff. Run as "torch", every `autodiff` and
`autodiff.<sub>` module is PyTorch's `torch` and `torch.<sub>`, so the same text runs on PyTorch:
that shows the shrunk program itself is right, and gives numbers to compare.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import runpy
import sys
from types import ModuleType


class TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `autodiff[.sub]` as `torch[.sub]`: the loader puts the torch module in its place."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "autodiff" and not fullname.startswith("autodiff."):
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a blank module, replaced in exec_module

    def exec_module(self, module: ModuleType) -> None:
        # The import system returns whatever sys.modules holds under the name after exec_module.
        name = module.__name__
        sys.modules[name] = importlib.import_module("torch" + name[len("autodiff"):])


def main(argv: list[str]) -> None:
    program, library, arguments = argv[0], argv[1], argv[2:]
    if library == "torch":
        sys.meta_path.insert(0, TorchAlias())
    elif library != "autodiff":
        raise SystemExit(f"unknown library {library!r}: autodiff or torch")
    sys.argv = [program, *arguments]
    del sys.path[0]  # this folder: a program's name must not shadow a module (regression, vae)
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
