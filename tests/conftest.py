"""Fixtures shared by the whole suite: the companion on SQLite and on a real PostgreSQL 15."""

from __future__ import annotations

import gc
import itertools
import os
import random
import shutil
import statistics
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kds_backend.app import create_app
from kds_backend.db.engine import make_engine, migrate
from kds_backend.settings import Settings
from tests.helpers.timeouts import FACTOR, scaled
from tests.helpers.tokens import JWT_SECRET, auth_headers, token_for
from tests.live_server import LiveServer
from tests.pg_cluster import PgCluster, find_pg_bin

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_db_counter = itertools.count()


# Modules whose tests share one pytest-xdist worker, in order (`./scripts/test` runs the suite with `-n`).
WHOLE_MODULES = {
    "tests/packaging/test_frozen_bundle.py",  # its module fixture builds the bundle: once, not once per worker
    "tests/faults/test_faults.py",  # a dozen processes per schedule, and a liveness deadline: one at a time
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist load` test by test, but each of WHOLE_MODULES as one unit, the biggest units first, then the rest
    longest first by the durations the last run recorded (in pytest's cache, `kds/durations`).

    What `xdist_group` marks with `--dist loadgroup` are for; but pytest-xdist 3.8 groups by renaming the node
    ids, which pytest 9.2 no longer allows, so the marks would be silently ignored."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    known: dict[str, float] = config.cache.get(DURATIONS_KEY, {}) if hasattr(config, "cache") else {}

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in WHOLE_MODULES else nodeid

        def schedule(self) -> None:
            first = self.collection is None
            super().schedule()
            if first and known:
                # The longest tests of the last run start first, so the run does not end on one worker finishing
                # a 30 s test while the others idle. A test the last run did not have counts as a typical one.
                typical = statistics.median(known.values())

                def last_time(item: tuple[str, dict[str, bool]]) -> float:
                    return -sum(known.get(nodeid, typical) for nodeid in item[1])

                pending = sorted(self.workqueue.items(), key=last_time)
                self.workqueue.clear()
                self.workqueue.update(pending)

        def remove_node(self, node: Any) -> str | None:
            # pytest-xdist 3.8 puts a crashed worker's finished units back in the queue too, handed out later as
            # empty assignments that never complete (the run hung instead of reporting the crash), and runs the
            # test that crashed again, and again. Here the crashed test is reported once (as `--dist load` does)
            # and only tests not yet run go back.
            workload = self.assigned_work.pop(node)
            pending = [(scope, nodeid) for scope, unit in workload.items() for nodeid, done in unit.items() if not done]
            if not pending:
                return None
            scope, crashed = pending[0]
            workload[scope][crashed] = True
            self.workqueue.update((scope, unit) for scope, unit in workload.items() if not all(unit.values()))
            for other in self.assigned_work:
                self._reschedule(other)
            return crashed

    return Scheduling(config, log)


DURATIONS_KEY = "kds/durations"
_durations: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Recorded where the run is controlled (the xdist controller, or the only process): setup, call and teardown.
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not hasattr(config, "cache") or not _durations:
        return
    config.cache.set(DURATIONS_KEY, {**config.cache.get(DURATIONS_KEY, {}), **_durations})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # KDS_TEST_TIMEOUT_FACTOR stretches pytest-timeout's limit too: each test's own marker, else the ini's value.
    if FACTOR == 1:
        return
    default = float(config.getini("timeout") or 0)
    for item in items:
        marker = item.get_closest_marker("timeout")
        limit = float(marker.args[0]) if marker is not None and marker.args else default
        if limit:
            item.add_marker(pytest.mark.timeout(scaled(limit)), append=False)


def pytest_collection_finish(session: pytest.Session) -> None:
    # What importing and collecting made (the modules of every package the suite touches, every test item: some
    # 400,000 objects a worker) lives for the whole session; frozen, the cyclic collector stops walking it on every
    # full collection. tests/kds_app's MainThreadGC collects fully before and after each test: 0.27 s of CPU each
    # over the unfrozen heap, over half a second a test.
    gc.collect()
    gc.freeze()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    # A test's cyclic garbage is collected here, on the main thread, once its fixtures are gone: left for the
    # automatic collector, a Qt app test's timers could be destroyed by the next test's server thread ("QObject::
    # ~QObject: Timers cannot be stopped from another thread"). Cheap over the frozen heap.
    gc.collect()


def pytest_configure(config: pytest.Config) -> None:
    # The fault harness's random seed is part of a test id, and pytest-xdist workers must all collect the same
    # ids: pick it once here, in the process that starts the workers (they inherit the environment).
    if not hasattr(config, "workerinput"):
        os.environ.setdefault("KDS_FAULTS_SEED", str(random.SystemRandom().randrange(1, 10**6)))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = find_pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries not found; CI must run the PostgreSQL tests")
        pytest.skip("PostgreSQL server binaries not found (set KDS_PG_BIN)")
    cluster = PgCluster(bindir)
    cluster.start()
    engine = make_engine(cluster.create_database("kds_template"))
    migrate(engine)
    engine.dispose()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The companion's SQLite schema, migrated once per session (per xdist worker): each test gets a copy, as each
    PostgreSQL test gets a copy of `kds_template`, instead of running every migration again (0.15-0.35 s a test)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "companion.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
    finally:
        engine.dispose()  # the last connection closed checkpoints the WAL into the file: the file alone is the copy
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert leftovers == [], f"the SQLite template is not one file: {leftovers}"
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "companion.db")
        yield f"sqlite:///{tmp_path / 'companion.db'}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"t{next(_db_counter)}"
    yield cluster.create_database(name, template="kds_template")
    cluster.drop_database(name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jwt_secret=JWT_SECRET, rate_limit_per_s=10_000, rate_limit_burst=10_000)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://companion") as c:
        yield c


@pytest.fixture
def pos_headers() -> dict[str, str]:
    return auth_headers(token_for("pos"))


@pytest.fixture
def kds_headers() -> dict[str, str]:
    return auth_headers(token_for("kds", stations=["grill"]))


@pytest.fixture
def expo_headers() -> dict[str, str]:
    return auth_headers(token_for("expo"))


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return auth_headers(token_for("admin"))


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """`kds-backend serve` in its own process, on SQLite and on PostgreSQL."""
    server = LiveServer(tmp_path, database_url, JWT_SECRET)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
