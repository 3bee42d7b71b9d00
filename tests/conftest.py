"""Test configuration: the devices every device-generic test runs on.

By default: "cpu", and "cuda" when CuPy sees a GPU (skipped with the reason otherwise).
`--device cuda` (or AUTODIFF_TEST_DEVICES=cuda,cpu) picks the list explicitly; `ci/gpu.sh`
uses it.
"""

from __future__ import annotations

import os

import pytest

import backends


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device", action="append", default=None,
        help="device(s) for device-generic tests (repeatable): cpu, cuda, cuda:1, strict:0",
    )


def _cuda_skip_reason() -> str | None:
    try:
        backends.get_backend("cuda")
    except (RuntimeError, ImportError) as error:
        return str(error).split(". ")[0]
    return None


def configured_devices(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--device")
    if not chosen and os.environ.get("AUTODIFF_TEST_DEVICES"):
        chosen = os.environ["AUTODIFF_TEST_DEVICES"].split(",")
    return list(chosen) if chosen else ["cpu", "cuda"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" in metafunc.fixturenames:
        params = []
        for name in configured_devices(metafunc.config):
            marks = []
            if name.startswith("cuda"):
                reason = _cuda_skip_reason()
                if reason is not None:
                    marks.append(pytest.mark.skip(reason=f"no CUDA device: {reason}"))
            params.append(pytest.param(name, marks=marks, id=name))
        metafunc.parametrize("device", params)
