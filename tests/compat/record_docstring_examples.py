"""Record PyTorch's outcomes for its ``>>>`` docstring examples (needs torch installed).

    python -m tests.compat.record_docstring_examples            # compare torch and autodiff now
    python -m tests.compat.record_docstring_examples --write    # rewrite the fixture

The fixture (``docstring_examples.json``) keeps, for each block torch can run here, the example
lines and torch's outcomes; ``test_docstring_examples.py`` replays them against autodiff
without torch. The run prints the blocks left out with the reason and every difference.
"""

from __future__ import annotations

import argparse
import doctest
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import torch

import autodiff
from tests.compat.docstring_examples import compare_block, run_block

FIXTURE = Path(__file__).with_name("docstring_examples.json")
# Lines that need hardware or installs the CPU reference lacks.
_NEEDS_DEVICE = re.compile(r"cuda|mps|xpu")
_UNRUNNABLE = re.compile(r"torchvision|scipy|quantize|_C\._|torch\.utils|torch\.distributed")


# Lines whose values depend on rounding or on an order the documentation leaves open: they
# compare what they raise, dtypes and shapes only.
LOOSE = {
    "torch.qr": {8: "allclose(q @ r, a) at default tolerances: False in float32 on torch"},
    "torch.sort": {8: "indices of equal elements under an unstable sort"},
}


def _public(module: Any) -> list[str]:
    names = getattr(module, "__all__", None) or dir(module)
    return sorted(name for name in names if not name.startswith("_")
                  and callable(getattr(module, name, None)))


def blocks() -> list[tuple[str, list[str]]]:
    """(name, example lines) for every docstring in the surveyed namespaces."""
    root = Path(torch.__file__).parent
    found: list[tuple[str, Any]] = []
    torch_docs = (root / "_torch_docs.py").read_text()
    for name in sorted(set(re.findall(r"add_docstr\(\s*torch\.(\w+)", torch_docs))):
        found.append((f"torch.{name}", getattr(torch, name, None)))
    tensor_docs = (root / "_tensor_docs.py").read_text()
    for name in sorted(set(re.findall(r"add_docstr_all\(\s*\"(\w+)\"", tensor_docs))):
        found.append((f"Tensor.{name}", getattr(torch.Tensor, name, None)))
    for label, module in (("torch.nn.functional", torch.nn.functional),
                          ("torch.linalg", torch.linalg), ("torch.special", torch.special),
                          ("torch.fft", torch.fft)):
        for name in _public(module):
            found.append((f"{label}.{name}", getattr(module, name)))
    parser = doctest.DocTestParser()
    result = []
    for name, obj in found:
        doc = inspect.getdoc(obj) if obj is not None else None
        if not doc:
            continue
        examples = parser.get_examples(doc)
        if examples:
            result.append((name, [example.source for example in examples]))
    return result


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--write", action="store_true")
    arguments.add_argument("--only", default="")
    arguments.add_argument("--json", default="")
    options = arguments.parse_args()
    report: dict[str, Any] = {"skipped": {}, "matched": [], "mismatched": {}, "random": []}
    fixture = []
    for name, sources in blocks():
        if options.only and not re.search(options.only, name):
            continue
        if any(_UNRUNNABLE.search(source) for source in sources):
            report["skipped"][name] = "needs quantization, torch internals or an install"
            continue
        # Lines that need an accelerator go; the rest of the block still runs.
        sources = [source for source in sources if not _NEEDS_DEVICE.search(source)]
        if not sources:
            report["skipped"][name] = "every line needs an accelerator"
            continue
        expected = run_block(torch, sources)
        if expected["outcomes"] and expected["outcomes"][-1].get("error", [""])[0] == "Timeout":
            report["skipped"][name] = "torch itself times out"
            continue
        if all("error" in outcome for outcome in expected["outcomes"]):
            report["skipped"][name] = "every line raises in torch: " + str(
                expected["outcomes"][0]["error"])
            continue
        actual = run_block(autodiff, sources)
        loose = LOOSE.get(name, {})
        problems = compare_block(expected, actual, sources, loose)
        if expected["random"]:
            report["random"].append(name)
        if problems:
            report["mismatched"][name] = problems
        else:
            report["matched"].append(name)
        fixture.append({"name": name, "sources": sources, "loose": sorted(loose), **expected})
    for name, problems in report["mismatched"].items():
        print(f"== {name}")
        for problem in problems[:4]:
            print("   ", problem[:400])
    print(f"blocks run {len(report['matched']) + len(report['mismatched'])}, matched "
          f"{len(report['matched'])}, mismatched {len(report['mismatched'])}, random-valued "
          f"{len(report['random'])}, skipped {len(report['skipped'])}", file=sys.stderr)
    if options.json:
        Path(options.json).write_text(json.dumps(report, indent=1))
    if options.write:
        FIXTURE.write_text(json.dumps({"torch": torch.__version__, "blocks": fixture},
                                      indent=None, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
