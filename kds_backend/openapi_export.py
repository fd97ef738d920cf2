"""The companion's OpenAPI document, generated deterministically for `docs/openapi.json`.

The checked-in document is what POS integrators and the schema fuzzer read, so it must not depend on
the machine that generated it: fixed dummy settings (no real secret, in-memory SQLite), no lifespan
(nothing connects to a database), sorted keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = REPO_ROOT / "docs" / "openapi.json"
REGENERATE_COMMAND = "kds-backend openapi"

# Never a real secret: routes do not put settings into the document, and this keeps it so even if one did.
_DUMMY_SETTINGS = Settings(database_url="sqlite://", jwt_secret="openapi-export-dummy-secret-not-for-use-000")


def openapi_document() -> dict[str, Any]:
    """`create_app(...).openapi()` for fixed settings; building the app runs no lifespan."""
    from .app import create_app

    return create_app(_DUMMY_SETTINGS).openapi()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def is_current(path: Path = DEFAULT_PATH) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == render(openapi_document())


def write(path: Path = DEFAULT_PATH) -> bool:
    """Write the document if it changed; True when the file was written."""
    text = render(openapi_document())
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
