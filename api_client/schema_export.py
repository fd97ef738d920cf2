"""Versioned JSON Schemas of the wire contract, generated from the pydantic models.

Other implementations (the Supabase SQL side, a POS integration, a JavaScript screen) read these files
instead of our Python, so they are checked in under `docs/schemas/v<SCHEMA_VERSION>/` and a test fails
when they drift from the models. The versioning rule is in `docs/schemas/README.md`.

    python -m api_client.schema_export            # regenerate docs/schemas/v1/
    python -m api_client.schema_export --check    # exit 1 and list drifted files
    python -m api_client.schema_export --extend-baseline   # record new fields as frozen (append-only)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import models
from .models import SCHEMA_VERSION

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMAS_ROOT = REPO_ROOT / "docs" / "schemas"
INDEX_FILE = "index.json"
BASELINE_FILE = ".baseline-required.json"
REGENERATE_COMMAND = "python -m api_client.schema_export"

# Every shape that crosses a process boundary, by the file name it is published under. The order is the
# order of the index. A new wire model must be added here (a test checks none is forgotten).
WIRE_MODELS: dict[str, type[BaseModel]] = {
    # rows, as REST reads and realtime `record`s carry them
    "OrderPublic": models.OrderPublic,
    "OrderItemPublic": models.OrderItemPublic,
    "MenuAvailabilityPublic": models.MenuAvailabilityPublic,
    "OrderWithItems": models.OrderWithItems,
    "DeletedRowPublic": models.DeletedRowPublic,
    "RecipePublic": models.RecipePublic,
    # POS intake
    "OrderIntake": models.OrderIntake,
    "OrderItemIntake": models.OrderItemIntake,
    "OrderItemsAddition": models.OrderItemsAddition,
    # recipes (the all-day panel's ingredient counts)
    "RecipeSet": models.RecipeSet,
    "RecipeItem": models.RecipeItem,
    # PostgREST-style writes
    "OrderInsert": models.OrderInsert,
    "OrderItemInsert": models.OrderItemInsert,
    "OrderUpdate": models.OrderUpdate,
    "OrderItemUpdate": models.OrderItemUpdate,
    # the intent RPC
    "Intent": models.Intent,
    "ApplyIntentsRequest": models.ApplyIntentsRequest,
    "IntentResult": models.IntentResult,
    # devices and auth
    "DeviceCreate": models.DeviceCreate,
    "DevicePublic": models.DevicePublic,
    "TokenClaims": models.TokenClaims,
    "PasswordGrant": models.PasswordGrant,
    "RefreshGrant": models.RefreshGrant,
    "AuthSession": models.AuthSession,
    # realtime `postgres_changes` payload `data`, one per published table
    "OrderChange": models.OrderChange,
    "OrderItemChange": models.OrderItemChange,
    "MenuAvailabilityChange": models.MenuAvailabilityChange,
    # errors
    "PostgrestError": models.PostgrestError,
}

# Index descriptions for models without a docstring (the models are shared; the index should still say what each is).
_DESCRIPTIONS: dict[str, str] = {
    "ApplyIntentsRequest": "Body of `POST /rest/v1/rpc/apply_intents`: intents in device order.",
    "IntentResult": "The outcome of one intent: applied, duplicate or rejected with a reason.",
    "DeviceCreate": "A device to register: name, sign-in credentials, role, stations, display settings.",
    "DevicePublic": "A registered device as the server returns it (never its password).",
    "PasswordGrant": "Body of `POST /auth/v1/token?grant_type=password`.",
    "RefreshGrant": "Body of `POST /auth/v1/token?grant_type=refresh_token`.",
}

# Models that only ever travel inside one of the above; they appear in its `$defs`, not as files.
NESTED_ONLY: frozenset[str] = frozenset(
    {"AppMetadata", "AuthUser", "ChangeColumn", "DisplaySettings", "RecipeIngredient"}
)


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """One model's schema as a receiver validates it (validation mode, wire names via aliases)."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


def _description(name: str, model: type[BaseModel]) -> str:
    doc = model.__dict__.get("__doc__")  # not inherited: OrderWithItems must not borrow OrderPublic's
    return doc.strip().splitlines()[0] if doc else _DESCRIPTIONS.get(name, "")


def build_schemas() -> dict[str, dict[str, Any]]:
    """`{file name: JSON document}` for the current version: one schema per wire model plus the index."""
    files = {f"{name}.json": model_schema(model) for name, model in WIRE_MODELS.items()}
    index = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": REGENERATE_COMMAND,
        "schemas": {
            name: {"file": f"{name}.json", "description": _description(name, model)}
            for name, model in WIRE_MODELS.items()
        },
    }
    return {**files, INDEX_FILE: index}


def render(document: Mapping[str, Any]) -> str:
    """The canonical text of a JSON file: sorted keys, 2-space indent, trailing newline (stable diffs)."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def version_dir(root: Path = SCHEMAS_ROOT, version: int = SCHEMA_VERSION) -> Path:
    return root / f"v{version}"


def drifted_files(directory: Path) -> list[str]:
    """Files in `directory` that differ from what the models produce, are missing, or are stale leftovers."""
    expected = {name: render(doc) for name, doc in build_schemas().items()}
    drifted = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            drifted.append(name)
    if directory.is_dir():
        # A schema whose model was dropped must not linger and mislead readers; hidden files are ours.
        drifted += [p.name for p in directory.glob("*.json") if p.name not in expected and not p.name.startswith(".")]
    return sorted(drifted)


def write_schemas(directory: Path) -> list[str]:
    """Bring `directory` in line with the models; returns the names of the files written or removed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = drifted_files(directory)
    documents = build_schemas()
    for name in changed:
        path = directory / name
        if name in documents:
            path.write_text(render(documents[name]), encoding="utf-8")
        else:
            path.unlink()
    return changed


# ---------------------------------------------------------------- backward-compatibility baseline


def _object_schemas(schema: Mapping[str, Any], name: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield name, schema
    yield from schema.get("$defs", {}).items()


def contract_surface(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What a v1 reader or writer relies on: each object's fields and required fields, each enum's values.

    Nested models are covered too (through `$defs`), so dropping `AuthUser.email` is caught like
    dropping a top-level field.
    """
    objects: dict[str, dict[str, list[str]]] = {}
    enums: dict[str, list[str]] = {}
    for file_name, document in documents.items():
        if file_name == INDEX_FILE:
            continue
        for name, schema in _object_schemas(document, file_name.removesuffix(".json")):
            if "enum" in schema:
                enums[name] = sorted(str(v) for v in schema["enum"])
            elif schema.get("type") == "object":
                properties = schema.get("properties", {})
                objects[name] = {"properties": sorted(properties), "required": sorted(schema.get("required", []))}
                # Inline literals (a change's `type`, say) are enums too, just without a name of their own.
                for field, spec in properties.items():
                    if "enum" in spec:
                        enums[f"{name}.{field}"] = sorted(str(v) for v in spec["enum"])
    return {"schema_version": SCHEMA_VERSION, "objects": objects, "enums": enums}


def compatibility_problems(baseline: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Why `current` would break a client built against `baseline` (empty when it would not)."""
    problems = []
    for name, frozen in baseline["objects"].items():
        now = current["objects"].get(name)
        if now is None:
            problems.append(f"{name}: the model is gone")
            continue
        for field in frozen["properties"]:
            if field not in now["properties"]:
                problems.append(f"{name}.{field}: the field was removed or renamed")
        for field in frozen["required"]:
            if field in now["properties"] and field not in now["required"]:
                problems.append(f"{name}.{field}: a required field became optional (readers rely on it)")
        for field in now["required"]:
            if field not in frozen["required"]:
                problems.append(f"{name}.{field}: a new required field (old senders do not send it)")
    for name, values in baseline["enums"].items():
        now_values = current["enums"].get(name)
        if now_values is None:
            problems.append(f"{name}: the enum is gone")
            continue
        problems += [f"{name}: the value {v!r} was removed" for v in values if v not in now_values]
    return problems


def extend_baseline(baseline: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The baseline plus what is new in `current`. Append-only: nothing frozen is ever dropped."""
    objects = {name: {k: list(v) for k, v in spec.items()} for name, spec in baseline["objects"].items()}
    for name, spec in current["objects"].items():
        entry = objects.setdefault(name, {"properties": [], "required": []})
        for key in ("properties", "required"):
            entry[key] = sorted(set(entry[key]) | set(spec[key]))
    enums = {name: list(values) for name, values in baseline["enums"].items()}
    for name, values in current["enums"].items():
        enums[name] = sorted(set(enums.get(name, [])) | set(values))
    return {"schema_version": baseline["schema_version"], "objects": objects, "enums": enums}


def load_baseline(directory: Path) -> dict[str, Any] | None:
    path = directory / BASELINE_FILE
    if not path.exists():
        return None
    baseline: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return baseline


# ---------------------------------------------------------------- command line


def _say(line: str, *, err: bool = False) -> None:
    # A command-line tool's output, not logging: it is what the developer asked to see.
    (sys.stderr if err else sys.stdout).write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api_client.schema_export",
        description=f"Write the wire contract's JSON Schemas (version {SCHEMA_VERSION}).",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 listing files that drifted")
    parser.add_argument(
        "--extend-baseline",
        action="store_true",
        help=f"add fields new since the last release to {BASELINE_FILE} (append-only; never drops anything)",
    )
    parser.add_argument("--root", type=Path, default=SCHEMAS_ROOT, help="schemas root (default: docs/schemas)")
    args = parser.parse_args(argv)
    directory = version_dir(args.root)
    current = contract_surface(build_schemas())
    baseline = load_baseline(directory)
    problems = compatibility_problems(baseline, current) if baseline else []

    if args.check:
        drifted = drifted_files(directory)
        for name in drifted:
            _say(f"drifted: {directory / name}", err=True)
        for problem in problems:
            _say(f"incompatible with v{SCHEMA_VERSION}: {problem}", err=True)
        if drifted:
            _say(f"regenerate with: {REGENERATE_COMMAND}", err=True)
        return 1 if drifted or problems else 0

    if problems:
        # Regenerating would publish a breaking change as v1; refuse and say what to do instead.
        for problem in problems:
            _say(f"incompatible with v{SCHEMA_VERSION}: {problem}", err=True)
        _say("Breaking changes need a new schema version; see docs/schemas/README.md.", err=True)
        return 1
    for name in write_schemas(directory):
        _say(f"wrote {directory / name}")
    if args.extend_baseline or baseline is None:
        frozen = extend_baseline(baseline or {"schema_version": SCHEMA_VERSION, "objects": {}, "enums": {}}, current)
        (directory / BASELINE_FILE).write_text(render(frozen), encoding="utf-8")
        _say(f"wrote {directory / BASELINE_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
