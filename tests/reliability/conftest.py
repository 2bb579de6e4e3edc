"""Shared workloads for the reliability tests: generated channels and an uninterrupted reference."""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Iterator

import pytest

from custsync_cli.devtools.soak import make_workload, reference_run
from tests.reliability.support import Scenario


def _seed() -> int:
    """A fixed seed unless CUSTSYNC_TEST_SEED asks for another (failures print it)."""
    return int(os.environ.get("CUSTSYNC_TEST_SEED", "20261126"))


@pytest.fixture(scope="session")
def crash_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """150 outbox rows over 3 channels, batch size 15: crashes land mid-run."""
    root = tmp_path_factory.mktemp("crash")
    workload = make_workload(
        root / "template", seed=_seed(), operations=150, channels=3, batch_size=15
    )
    return Scenario(workload, reference_run(workload, root / "reference"))


@pytest.fixture(scope="session")
def long_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """300 rows, batch size 10: a run long enough to signal or overlap it."""
    root = tmp_path_factory.mktemp("long")
    workload = make_workload(
        root / "template", seed=_seed() + 1, operations=300, channels=2, batch_size=10
    )
    return Scenario(workload, reference_run(workload, root / "reference"))


@pytest.fixture
def rng() -> random.Random:
    seed = random.SystemRandom().randrange(2**32)
    print(f"timing seed {seed}")
    return random.Random(seed)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; any still running at the end are killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()
