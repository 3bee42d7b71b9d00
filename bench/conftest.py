"""pytest-benchmark suites (`pytest bench/ --benchmark-enable`): not part of the default test run
(testpaths = tests), and no test here asserts a time."""

from __future__ import annotations

import pytest

from bench._setup import Setup, make_setup


@pytest.fixture(scope="session")
def setup() -> Setup:
    return make_setup("cpu")

