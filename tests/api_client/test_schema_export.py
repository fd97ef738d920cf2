"""The checked-in JSON Schemas match the models, and the models stay compatible with frozen v1."""

from __future__ import annotations

import copy
import inspect
import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from api_client import models, schema_export
from api_client.models import SCHEMA_VERSION
from api_client.schema_export import (
    BASELINE_FILE,
    INDEX_FILE,
    NESTED_ONLY,
    REGENERATE_COMMAND,
    WIRE_MODELS,
    build_schemas,
    compatibility_problems,
    contract_surface,
    drifted_files,
    extend_baseline,
    render,
    version_dir,
    write_schemas,
)

V1 = version_dir()


def test_checked_in_schemas_match_the_models() -> None:
    drifted = drifted_files(V1)
    assert not drifted, (
        f"docs/schemas/v{SCHEMA_VERSION} is out of date ({', '.join(drifted)}). "
        f"Regenerate with `{REGENERATE_COMMAND}` (and see docs/schemas/README.md if a change is not additive)."
    )


def test_models_are_compatible_with_the_frozen_v1_baseline() -> None:
    baseline = json.loads((V1 / BASELINE_FILE).read_text(encoding="utf-8"))
    assert baseline["schema_version"] == SCHEMA_VERSION
    problems = compatibility_problems(baseline, contract_surface(build_schemas()))
    assert not problems, (
        "The models break the v1 wire contract:\n  "
        + "\n  ".join(problems)
        + "\nBreaking changes need a v2 schema alongside v1 and a migration path (docs/schemas/README.md)."
    )


def test_the_baseline_freezes_the_v1_core() -> None:
    # Belt and braces against a hand-edited baseline: the fields the sync engine and the app cannot live
    # without are listed here too, so loosening them needs two deliberate edits.
    objects = json.loads((V1 / BASELINE_FILE).read_text(encoding="utf-8"))["objects"]
    core = {
        "OrderPublic": {"id", "restaurant_id", "number", "status", "version", "change_seq", "updated_at"},
        "OrderItemPublic": {"id", "order_id", "restaurant_id", "station", "name", "status", "version", "change_seq"},
        "MenuAvailabilityPublic": {"id", "restaurant_id", "item_name", "available", "version", "change_seq"},
        "Intent": {"id", "device_id", "device_seq", "kind"},
        "IntentResult": {"id", "status"},
        "PostgrestError": {"code", "message"},
        "AuthSession": {"access_token", "expires_in", "expires_at", "refresh_token", "user"},
        "OrderChange": {"table", "type", "commit_timestamp", "columns"},
    }
    for name, fields in core.items():
        assert fields <= set(objects[name]["required"]), name


def test_every_wire_model_is_exported() -> None:
    defined = {
        name
        for name, obj in inspect.getmembers(models, inspect.isclass)
        if issubclass(obj, BaseModel) and obj.__module__ == models.__name__ and not name.startswith("_")
    }
    forgotten = defined - set(WIRE_MODELS) - NESTED_ONLY
    assert not forgotten, f"add to WIRE_MODELS (or NESTED_ONLY) in api_client/schema_export.py: {sorted(forgotten)}"


def test_index_lists_every_schema_with_the_version() -> None:
    index = build_schemas()[INDEX_FILE]
    assert index["schema_version"] == SCHEMA_VERSION
    assert set(index["schemas"]) == set(WIRE_MODELS)
    assert all(entry["description"] for entry in index["schemas"].values())
    for name in ("OrderChange", "OrderItemChange", "MenuAvailabilityChange", "TokenClaims", "AuthSession"):
        assert index["schemas"][name]["file"] == f"{name}.json"


def test_change_payload_schema_uses_wire_names() -> None:
    schema = build_schemas()["OrderChange.json"]
    # `schema_` is the Python attribute; the realtime payload calls it `schema`.
    assert "schema" in schema["properties"] and "schema_" not in schema["properties"]
    assert schema["properties"]["table"]["const"] == "orders"


def test_render_is_canonical() -> None:
    text = render({"b": 1, "a": {"d": [1], "c": "é"}})
    assert text == '{\n  "a": {\n    "c": "é",\n    "d": [\n      1\n    ]\n  },\n  "b": 1\n}\n'


def test_drift_is_detected_and_repaired(tmp_path: Path) -> None:
    directory = tmp_path / "v1"
    assert write_schemas(directory)  # everything is new
    assert drifted_files(directory) == []
    (directory / "Intent.json").write_text("{}\n", encoding="utf-8")
    (directory / "Removed.json").write_text("{}\n", encoding="utf-8")
    (directory / "OrderPublic.json").unlink()
    assert drifted_files(directory) == ["Intent.json", "OrderPublic.json", "Removed.json"]
    assert write_schemas(directory) == ["Intent.json", "OrderPublic.json", "Removed.json"]
    assert drifted_files(directory) == [] and not (directory / "Removed.json").exists()


def test_check_command_exits_1_and_names_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_export.main(["--root", str(tmp_path)]) == 0
    assert (tmp_path / "v1" / BASELINE_FILE).exists()
    assert schema_export.main(["--root", str(tmp_path), "--check"]) == 0
    (tmp_path / "v1" / "Intent.json").write_text("{}\n", encoding="utf-8")
    capsys.readouterr()
    assert schema_export.main(["--root", str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert "Intent.json" in err and REGENERATE_COMMAND in err


def _baseline() -> dict:
    return contract_surface(build_schemas())


def test_removing_or_renaming_a_field_is_incompatible() -> None:
    baseline = _baseline()
    current = copy.deepcopy(baseline)
    current["objects"]["OrderPublic"]["properties"].remove("table_label")
    current["objects"]["OrderPublic"]["properties"].append("table")
    assert compatibility_problems(baseline, current) == ["OrderPublic.table_label: the field was removed or renamed"]


def test_loosening_or_adding_required_fields_is_incompatible() -> None:
    baseline = _baseline()
    current = copy.deepcopy(baseline)
    current["objects"]["Intent"]["required"].remove("device_seq")
    current["objects"]["Intent"]["required"].append("station")
    problems = compatibility_problems(baseline, current)
    assert any("Intent.device_seq" in p for p in problems)
    assert any("Intent.station: a new required field" in p for p in problems)


def test_removing_an_enum_value_or_model_is_incompatible() -> None:
    baseline = _baseline()
    current = copy.deepcopy(baseline)
    current["enums"]["IntentKind"].remove("recall")
    del current["objects"]["PostgrestError"]
    problems = compatibility_problems(baseline, current)
    assert "IntentKind: the value 'recall' was removed" in problems
    assert "PostgrestError: the model is gone" in problems


def test_a_new_optional_field_is_compatible_and_the_baseline_only_grows() -> None:
    baseline = _baseline()
    current = copy.deepcopy(baseline)
    current["objects"]["OrderPublic"]["properties"].append("course_count")
    current["enums"]["IntentKind"].append("reprint")
    assert compatibility_problems(baseline, current) == []
    grown = extend_baseline(baseline, current)
    assert "course_count" in grown["objects"]["OrderPublic"]["properties"]
    # Growing never forgets: a later removal of the new field is caught.
    assert compatibility_problems(grown, baseline) == [
        "OrderPublic.course_count: the field was removed or renamed",
        "IntentKind: the value 'reprint' was removed",
    ]


def test_regenerating_refuses_a_breaking_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert schema_export.main(["--root", str(tmp_path)]) == 0

    # A PostgrestError without `hint`: what a careless rename in models.py would produce.
    slim = dict(WIRE_MODELS)
    slim["PostgrestError"] = type("PostgrestError", (BaseModel,), {"__annotations__": {"code": str, "message": str}})
    monkeypatch.setattr(schema_export, "WIRE_MODELS", slim)
    before = (tmp_path / "v1" / "PostgrestError.json").read_text(encoding="utf-8")
    assert schema_export.main(["--root", str(tmp_path)]) == 1
    assert (tmp_path / "v1" / "PostgrestError.json").read_text(encoding="utf-8") == before
    assert schema_export.main(["--root", str(tmp_path), "--check"]) == 1
