"""Record PyTorch's results for the docstring examples (needs torch; rerun when it changes).

    python -m tests.compat.nn_docstring_examples.generate

Extracts the ``>>>`` / ``Example::`` blocks of the public classes and functions in
torch.nn.modules.*, torch.nn.utils.*, torch.nn.init, torch.optim (optimizers, lr_scheduler,
swa_utils), torch.distributions.* and torch.autograd.functional / forward_ad / graph, runs each
with torch under three seeds (harness.py makes inputs and module parameters the same numbers
in every library; what still differs between seeds is marked random), and writes
``examples.json`` (the blocks), ``expected.json.gz`` + ``expected.npz`` (torch's records).
A block that takes autodiff longer than SLOW_SECONDS is marked slow (run only with
AUTODIFF_SLOW_EXAMPLES=1).
"""

from __future__ import annotations

import ast
import codeop
import contextlib
import gzip
import importlib
import inspect
import json
import pkgutil
import re
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

from .harness import ArrayStore, Runner, digest, mark_random, preset_names, to_json

HERE = Path(__file__).parent
SLOW_SECONDS = 0.25


def _modules():
    import torch
    import torch.autograd.forward_ad
    import torch.autograd.functional
    import torch.autograd.graph
    import torch.distributions
    import torch.nn.init
    import torch.nn.modules
    import torch.nn.utils
    import torch.optim

    found = [importlib.import_module("torch.nn.modules." + m.name)
             for m in pkgutil.iter_modules(torch.nn.modules.__path__)]
    for m in pkgutil.walk_packages(torch.nn.utils.__path__, "torch.nn.utils."):
        if "._" not in m.name:
            found.append(importlib.import_module(m.name))
    found.append(torch.nn.init)
    found += [importlib.import_module("torch.optim." + m.name)
              for m in pkgutil.iter_modules(torch.optim.__path__) if not m.name.startswith("_")]
    found += [importlib.import_module(m.name)
              for m in pkgutil.walk_packages(torch.distributions.__path__, "torch.distributions.")]
    found += [torch.autograd.functional, torch.autograd.forward_ad, torch.autograd.graph]
    return found


def _members(module):
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(value):
            yield f"{module.__name__}.{name}", value
            for member_name, member in vars(value).items():
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    member = member.fget
                if callable(member) and getattr(member, "__doc__", None) and (
                        not member_name.startswith("_") or member_name == "__init__"):
                    yield f"{module.__name__}.{name}.{member_name}", member
        elif inspect.isfunction(value):
            yield f"{module.__name__}.{name}", value


def _incomplete(code: str) -> bool:
    try:
        return codeop.compile_command(code, symbol="exec") is None
    except SyntaxError:
        return False


def _doctest_examples(doc: str) -> list[str]:
    """The source of each ``>>>`` example (with its ``...`` lines, and the unprefixed lines of
    a bracket left open, as some docstrings write them)."""
    examples: list[list] = []
    current = None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>"):
            current = [stripped[4:] if stripped.startswith(">>> ") else stripped[3:], False]
            examples.append(current)
        elif current is not None and not current[1] and stripped.startswith("..."):
            rest = line.lstrip()  # keeps the indentation after "... "
            current[0] += "\n" + (rest[4:] if rest.startswith("... ") else rest[3:])
        elif current is not None and not current[1] and stripped and _incomplete(current[0]):
            current[0] += "\n" + stripped
        elif stripped and current is not None:
            current[1] = True  # the expected output: not code
        elif not stripped:
            current = None
    return [source for source, _ in examples]


def _chunks(source: str, examples: list[str]) -> list[str]:
    """One chunk per top-level statement (so a loop written line by line stays whole)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return examples or [source]
    lines = source.splitlines()
    return ["\n".join(lines[node.lineno - 1: node.end_lineno]) for node in tree.body]


def _preset_modules(name: str) -> list[str]:
    """The modules whose names a docstring's example may use unimported: its own module (and
    torch.distributions / torch.optim and its lr_scheduler for those)."""
    parts = name.split(".")
    origin = None
    for i in range(len(parts), 0, -1):
        try:
            importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        origin = ".".join(parts[:i])
        break
    modules = [origin]
    if name.startswith("torch.distributions"):
        modules.append("torch.distributions")
    if name.startswith("torch.optim"):
        modules += ["torch.optim", "torch.optim.lr_scheduler"]
    return modules


def _module_names(dotted: str) -> list[str]:
    """The public classes and functions of a module (what an example may use unimported)."""
    module = importlib.import_module(dotted)
    names = []
    for attr in dir(module):
        if attr.startswith("_") or attr in ("torch", "nn", "F", "D"):
            continue
        value = getattr(module, attr)
        if not inspect.ismodule(value) and callable(value):
            names.append(attr)
    return names


def extract() -> list[dict]:
    blocks = []
    seen: set[int] = set()
    for module in _modules():
        for name, value in _members(module):
            doc = value.__doc__
            if not doc or id(doc) in seen:
                continue
            seen.add(id(doc))
            doc = inspect.cleandoc(doc)
            if ">>>" in doc:
                examples = _doctest_examples(doc)
                sources = [("\n".join(examples) + "\n", examples)]
            else:
                sources = [(textwrap.dedent(m.group(1)).strip("\n") + "\n", [])
                           for m in re.finditer(r"Examples?::\s*\n((?:[ \t]+.*\n|\s*\n)+)",
                                                doc + "\n")]
            for source, examples in sources:
                blocks.append({"name": name, "modules": _preset_modules(name),
                               "chunks": _chunks(source, examples)})
    return blocks


def main() -> None:
    warnings.filterwarnings("ignore")
    blocks = extract()
    modules = {dotted: _module_names(dotted)
               for dotted in sorted({dotted for block in blocks for dotted in block["modules"]})}
    reference = Runner("torch")
    autodiff = Runner("autodiff")
    records: list[Any] = []
    arrays = ArrayStore()
    for block in blocks:
        block["preset"] = preset_names(block, modules)
        runs = [reference.run(block, seed) for seed in (0, 1, 2)]
        expected = digest(mark_random(runs[0], runs[1:]))
        start = time.perf_counter()
        with contextlib.suppress(Exception):
            autodiff.run(block)
        block["slow"] = time.perf_counter() - start > SLOW_SECONDS
        del block["preset"]
        records.append(to_json(expected, arrays))
    (HERE / "examples.json").write_text(
        json.dumps({"modules": modules, "blocks": blocks}, indent=0) + "\n")
    # mtime=0: the same records give the same bytes.
    with gzip.GzipFile(HERE / "expected.json.gz", "wb", mtime=0) as file:
        file.write((json.dumps(records) + "\n").encode())
    arrays.save(HERE / "expected.npz")
    print(f"{len(blocks)} blocks")


if __name__ == "__main__":
    main()
