"""DistributedDataParallel and DistributedSampler under `mpiexec -n 2` and `-n 3`
(worker_ddp.py), and the digits example trained data-parallel."""

from __future__ import annotations

import importlib.util

import pytest

from .launch import ROOT, Run, checks_in, run, skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=f"{skip_reason()}")

WORKER = "worker_ddp.py"


@pytest.fixture(scope="module", params=[2, 3], ids=lambda n: f"{n}ranks")
def launched(request: pytest.FixtureRequest) -> tuple[int, Run]:
    ranks = request.param
    return ranks, run(WORKER, ranks, str(ranks))


@pytest.mark.parametrize("name", checks_in(WORKER))
def test_ddp(launched: tuple[int, Run], name: str) -> None:
    ranks, result = launched
    result.check(name, ranks)


def test_worker_exits_cleanly(launched: tuple[int, Run]) -> None:
    _, result = launched
    assert result.returncode == 0, result.output[-4000:]


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None
                    or importlib.util.find_spec("tqdm") is None,
                    reason="the digits example needs scikit-learn and tqdm "
                           "(pip install -e '.[examples]')")
def test_train_digits_distributed() -> None:
    """The README's launcher command (fewer epochs): 2 ranks train the digits MLP."""
    result = run(str(ROOT / "examples" / "train_digits.py"), 2, "--distributed", "--epochs", "3",
                 "--quiet", "--checkpoint", "")
    assert result.returncode == 0, result.output[-4000:]
    lines = [line for line in result.output.splitlines() if line.startswith("test accuracy:")]
    assert len(lines) == 1 and lines[0].endswith("(2 ranks)"), result.output  # rank 0 only
    assert float(lines[0].split()[2].rstrip("%")) > 80  # 3 epochs reach about 88-90%
