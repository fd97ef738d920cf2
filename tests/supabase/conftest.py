"""A database per test with the stand-in and the Supabase migrations applied (copied from a template)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import psycopg
import pytest

from tests.pg_cluster import PgCluster

from .helpers import apply_migrations, apply_stand_in

_counter = itertools.count()


def fresh_database(cluster: PgCluster, template: str | None = None) -> str:
    name = f"sb{next(_counter)}"
    cluster.create_database(name, template=template)
    return cluster.dsn(name)


@pytest.fixture(scope="session")
def supabase_template(pg_cluster: PgCluster) -> str:
    dsn = fresh_database(pg_cluster)
    apply_stand_in(dsn)
    apply_migrations(dsn)
    return dsn.rsplit("/", 1)[1]


@pytest.fixture
def sb_dsn(pg_cluster: PgCluster, supabase_template: str) -> Iterator[str]:
    dsn = fresh_database(pg_cluster, template=supabase_template)
    yield dsn
    # Dropped with the test, as the companion's are (tests/conftest.py): the ~80 copies a worker used to leave
    # (27k files) made the cluster's removal at the end of the session take 3.5 s.
    pg_cluster.drop_database(dsn.rsplit("/", 1)[1])


@pytest.fixture
def sb(sb_dsn: str) -> Iterator[psycopg.Connection]:
    """A connection as the table owner (the test superuser), autocommit; `as_device()` for requests."""
    with psycopg.connect(sb_dsn, autocommit=True) as conn:
        yield conn
