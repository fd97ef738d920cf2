"""The JSON lines: one object per record, the context on each, `extra` fields as keys, tracebacks kept."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest

from api_client.logs import LOG_FILE, active_log_file, clear_context, install_file_logging, set_context, tail


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    clear_context()
    files = install_file_logging(tmp_path, crash_handlers=False, max_bytes=4000, backups=2)
    try:
        yield tmp_path
    finally:
        files.close()
        clear_context()
    assert active_log_file() is None


def lines(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (directory / LOG_FILE).read_text().splitlines()]


def test_a_line_carries_the_context_and_the_extra_fields(log_dir: Path) -> None:
    assert active_log_file() == log_dir / LOG_FILE
    log = logging.getLogger("test.logs")
    log.info("before sign-in")
    set_context(device="d1", station="grill")
    log.warning("refused: %s", "bump", extra={"order_number": "A7", "intent_id": UUID(int=1), "ts": "clash"})
    try:
        raise ValueError("bad row")
    except ValueError:
        log.exception("failed")
    first, refused, failed = lines(log_dir)
    assert "device" not in first and first["version"]
    assert list(refused)[:4] == ["ts", "level", "logger", "msg"]
    assert refused["msg"] == "refused: bump" and refused["level"] == "WARNING" and refused["logger"] == "test.logs"
    assert (refused["device"], refused["station"], refused["order_number"]) == ("d1", "grill", "A7")
    assert refused["intent_id"] == str(UUID(int=1))  # what JSON cannot carry is written as its str
    assert refused["ts"] != "clash"  # an extra never overrides ts, level, logger or msg
    assert datetime.fromisoformat(str(refused["ts"])).tzinfo is not None
    assert "ValueError: bad row" in str(failed["exc"])


def test_the_file_rotates_and_tail_reads_across_the_rotation(log_dir: Path) -> None:
    log = logging.getLogger("test.logs")
    for n in range(60):
        log.info("line %d", n)
    assert (log_dir / f"{LOG_FILE}.1").exists() and not (log_dir / f"{LOG_FILE}.3").exists()
    last = [json.loads(line)["msg"] for line in tail(log_dir / LOG_FILE, 15)]
    assert last == [f"line {n}" for n in range(45, 60)]
