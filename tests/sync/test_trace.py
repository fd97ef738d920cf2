"""The opt-in trace module (`sync/trace.py`): its JSON-lines format, first-paint dedup, and the disabled no-op."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync import trace
from sync.trace import Tracer

ROOT = Path(__file__).resolve().parents[2]


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_marks_are_json_lines_with_wall_and_monotonic_time(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    tracer = Tracer(str(path), flush_s=3600)
    tracer.mark("store", ["a", "b"], extra=1)
    assert not path.exists()  # buffered
    tracer.flush()
    [record] = _lines(path)
    assert record["stage"] == "store" and record["ids"] == ["a", "b"] and record["extra"] == 1
    assert isinstance(record["t"], float) and isinstance(record["m"], float)


def test_a_paint_is_marked_once_per_order_station_and_item_count(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    tracer = Tracer(str(path), flush_s=3600)
    for items in (0, 2, 2, 3, 3):
        tracer.painted("o1", None, items)
    tracer.painted("o1", "grill", 2)
    tracer.flush()
    assert [(r["ids"], r["station"], r["items"]) for r in _lines(path)] == [
        (["o1"], None, 0), (["o1"], None, 2), (["o1"], None, 3), (["o1"], "grill", 2),
    ]


def test_frame_fields_name_the_order_of_an_item_and_the_commit_time() -> None:
    item = {"table": "order_items", "type": "INSERT", "commit_timestamp": "2026-01-01T00:00:00.000Z",
            "record": {"id": "i1", "order_id": "o1"}}
    assert trace._frame_fields(item) == (["o1"], {"table": "order_items", "type": "INSERT",
                                                  "commit_ts": "2026-01-01T00:00:00.000Z"})
    deleted = {"table": "orders", "type": "DELETE", "record": None, "old_record": {"id": "o2"}}
    assert trace._frame_fields(deleted)[0] == ["o2"]


def test_enabled_only_by_the_environment_and_written_at_exit(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    code = "from sync import trace; print(trace.on); trace.mark('x', [1]); trace.painted('o', None, 1)"
    env = {k: v for k, v in os.environ.items() if k != "KDS_TRACE_FILE"}
    off = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert off.stdout.strip() == "False" and not path.exists()
    on = subprocess.run([sys.executable, "-c", code], env={**env, "KDS_TRACE_FILE": str(path)}, cwd=ROOT,
                        capture_output=True, text=True, check=True)
    assert on.stdout.strip() == "True"
    assert [r["stage"] for r in _lines(path)] == ["x", "paint"]


@pytest.mark.parametrize("raw", ["1s", "0", "nan", "-1"])
def test_a_bad_flush_interval_is_refused_naming_it(raw: str) -> None:
    assert trace._flush_s("") == 1.0 and trace._flush_s("0.02") == 0.02
    with pytest.raises(ValueError, match=r"^KDS_TRACE_FLUSH_S must be seconds from 0.01 to 3600, not "):
        trace._flush_s(raw)
