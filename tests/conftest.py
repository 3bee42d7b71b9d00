"""Test configuration: the devices every device-generic test runs on.

By default: "cpu"; "strict:1", the array-api-strict test backend's second device (a device that
is not the default one catches results left on the wrong device); and "cuda" when CuPy sees a
GPU (skipped with the reason otherwise). `--device cuda --device cpu` (or
AUTODIFF_TEST_DEVICES=cuda,cpu) picks the list explicitly; `ci/gpu.sh` uses it.
"""

from __future__ import annotations

import functools
import os

import pytest

import backends


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device", action="append", default=None,
        help="device(s) for device-generic tests (repeatable): cpu, cuda, cuda:1, strict:0",
    )


@functools.cache  # asked once per test function at collection; a missing CuPy stays missing
def _skip_reason(device: str) -> str | None:
    """Why `device` cannot run here (no CuPy, no GPU, no array-api-strict), or None."""
    try:
        backends.get_backend(device)
    except (RuntimeError, ImportError) as error:
        return str(error).split(". ")[0]
    return None


def configured_devices(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--device")
    if not chosen and os.environ.get("AUTODIFF_TEST_DEVICES"):
        chosen = os.environ["AUTODIFF_TEST_DEVICES"].split(",")
    return list(chosen) if chosen else ["cpu", "strict:1", "cuda"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" in metafunc.fixturenames:
        params = []
        for name in configured_devices(metafunc.config):
            marks = []
            reason = _skip_reason(name)
            if reason is not None:
                marks.append(pytest.mark.skip(reason=f"no {name} device: {reason}"))
            params.append(pytest.param(name, marks=marks, id=name))
        metafunc.parametrize("device", params)
