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
        # The modules torch has loaded are aliased now: importing one through the finder would
        # bind it on its parent package, over a function of the same name
        # (`from autodiff.autograd.gradcheck import GradcheckError` would turn
        # torch.autograd.gradcheck into the module).
        importlib.import_module("torch")
        for name, module in list(sys.modules.items()):
            if name == "torch" or name.startswith("torch."):
                sys.modules.setdefault("autodiff" + name[len("torch"):], module)
        sys.meta_path.insert(0, TorchAlias())
    elif library != "autodiff":
        raise SystemExit(f"unknown library {library!r}: autodiff or torch")
    sys.argv = [program, *arguments]
    del sys.path[0]  # this folder: a program's name must not shadow a module (regression, vae)
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
