"""Floor fixtures: a real Mosquitto on a free loopback port (one per test module), a watcher of the bus."""

from __future__ import annotations

import pytest

from somana_core.floor.fleet import Fleet
from somana_core.floor.local import LocalBroker


@pytest.fixture(scope="module")
def broker():
    with LocalBroker() as started:
        yield started


@pytest.fixture
def fleet(broker):
    watcher = Fleet(broker.url).start()
    yield watcher
    watcher.close()


def job_text(moves: int = 120) -> str:
    """A plain job: heat, home, `moves` moves (no slicer estimate)."""
    return "\n".join(["; test job", "M104 S200", "G28", "G90"]
                     + [f"G1 X{10 + i % 40} Y{10 + i % 30} F3000" for i in range(moves)]) + "\n"
