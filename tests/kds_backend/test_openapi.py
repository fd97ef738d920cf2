"""`docs/openapi.json` is what the app serves, and `kds-backend openapi` keeps it so."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from kds_backend import cli, openapi_export
from kds_backend.app import create_app
from kds_backend.openapi_export import DEFAULT_PATH, REGENERATE_COMMAND, openapi_document, render
from kds_backend.settings import Settings
from tests.conftest import JWT_SECRET


def test_checked_in_document_matches_the_app() -> None:
    assert DEFAULT_PATH.exists(), f"docs/openapi.json is missing; generate it with `{REGENERATE_COMMAND}`"
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render(openapi_document()), (
        f"docs/openapi.json is out of date with the routes; regenerate it with `{REGENERATE_COMMAND}`"
    )


def test_generation_is_deterministic_and_independent_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    first = render(openapi_document())
    monkeypatch.setenv("KDS_DATABASE_URL", "postgresql://someone:hunter2@db.example/kds")
    monkeypatch.setenv("KDS_JWT_SECRET", "x" * 40)
    assert render(openapi_document()) == first
    assert "hunter2" not in first and "x" * 40 not in first and JWT_SECRET not in first
    assert "openapi-export-dummy-secret" not in first


async def test_the_served_document_is_the_checked_in_one(tmp_path: Path) -> None:
    # Real-looking settings, different from the exporter's dummy ones: the document must not depend on them.
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", jwt_secret=JWT_SECRET))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://companion") as client:
        served = (await client.get("/openapi.json")).json()
    assert served == json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_cli_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "openapi.json"
    assert cli.main(["openapi", "--check", "--output", str(target)]) == 1
    assert REGENERATE_COMMAND in capsys.readouterr().err
    assert cli.main(["openapi", "--output", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["info"]["title"] == "KDS companion"
    assert cli.main(["openapi", "--check", "--output", str(target)]) == 0
    target.write_text(target.read_text(encoding="utf-8").replace("KDS companion", "KDS"), encoding="utf-8")
    assert cli.main(["openapi", "--check", "--output", str(target)]) == 1
    assert openapi_export.write(target) is True and openapi_export.write(target) is False


def test_intake_documents_the_required_idempotency_key() -> None:
    paths = openapi_document()["paths"]
    for path in ("/api/v1/orders", "/api/v1/orders/{order_id}/items"):
        [key] = [p for p in paths[path]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["in"] == "header" and key["required"] is True, path


def test_every_operation_documents_the_request_limits_answers() -> None:
    """The server answers any request 431 (head too large), 408 (head or body too slow) and 503 (connection cap,
    database down), and a request with a body 413 (too large): integrators must find them in the document."""
    operations = [(method, path, op) for path, ops in openapi_document()["paths"].items() for method, op in ops.items()]
    assert len(operations) > 20
    for method, path, op in operations:
        responses = op["responses"]
        for code in ("408", "431", "503"):
            assert responses.get(code, {}).get("description"), f"{method.upper()} {path} lacks {code}"
        if method in ("post", "put", "patch"):
            assert "KDS_MAX_BODY_BYTES" in responses.get("413", {}).get("description", ""), f"{method} {path}"
    health = openapi_document()["paths"]["/health"]["get"]["responses"]["503"]["description"]
    assert "database" in health.lower()  # a route's own description of a code is kept
