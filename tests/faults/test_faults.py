"""The fault harness in CI: fixed seeds, a random one (printed), and every check shown able to fail.

Each schedule is real processes on loopback (companion, 3-5 screens, one of them the Qt app, proxies, a POS);
`./scripts/test -m "not faults"` leaves them out. A failure prints its replay command.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import pytest

from tests.pg_cluster import PgCluster

from .__main__ import report_failure
from .runner import Result, execute
from .schedule import generate

pytestmark = [pytest.mark.faults, pytest.mark.slow]

CI_CHAOS_S = 10.0
FIXED = [(11, "sqlite"), (12, "postgres"), (13, "sqlite")]
RANDOM_SEED = int(os.environ.get("KDS_FAULTS_SEED", random.SystemRandom().randrange(1, 10**6)))


def _database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'companion.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"faults_{tmp_path.name[-20:].replace('-', '_')}")


def _run(seed: int, backend: str, tmp_path: Path, request: pytest.FixtureRequest, *, plant: str | None = None,
         qt: bool = True, force: tuple[str, ...] = (), chaos_s: float = CI_CHAOS_S) -> Result:
    schedule = generate(seed, backend=backend, qt=qt, chaos_s=chaos_s, force=force)
    url = _database(backend, tmp_path, request)
    return asyncio.run(asyncio.wait_for(execute(schedule, tmp_path / "run", url, plant), 240))


def _explain(result: Result) -> str:
    import io

    out = io.StringIO()
    report_failure({"seed": result.seed, "backend": result.backend, "classes": result.classes,
                    "violations": result.violations, "workdir": result.workdir, "replay": result.replay()}, out)
    return out.getvalue()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("seed", "backend"),
    [pytest.param(s, b, marks=[pytest.mark.postgres] if b == "postgres" else []) for s, b in FIXED]
    + [pytest.param(RANDOM_SEED, "sqlite", id=f"random-{RANDOM_SEED}")],
)
def test_schedule_never_loses_a_ticket(seed: int, backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                                       ) -> None:
    print(f"fault schedule seed {seed} ({backend})")
    result = _run(seed, backend, tmp_path, request)
    assert result.ok, _explain(result)


# Each check, with a bug planted that it must catch (a green run shows nothing bad was observed, not that the
# check would have noticed). `force` makes the schedule contain what lets the bug show.
PLANTED = [
    ("ignore_deletes", "converged", ("admin_delete", "admin_delete")),
    ("skip_ledger", "once", ("lost_reply", "lost_reply", "lost_reply")),
    ("forget_acked", "acked", ()),
    ("stall_outbox", "drained", ("server_kill", "lost_reply", "lost_reply")),
    ("corrupt_store", "integrity", ()),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("plant", "check", "force"), PLANTED, ids=[p[0] for p in PLANTED])
def test_planted_bug_is_caught(plant: str, check: str, force: tuple[str, ...], tmp_path: Path,
                               request: pytest.FixtureRequest) -> None:
    result = _run(21, "sqlite", tmp_path, request, plant=plant, qt=False, force=force, chaos_s=8.0)
    assert result.violations[check], f"planted {plant} was not caught by {check}: {result.violations}"
    print(_explain(result))
