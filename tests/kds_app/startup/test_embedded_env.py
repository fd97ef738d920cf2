"""A bad `KDS_*` value stops the companion embedded in `kds` as it stops `kds-backend serve`: named, with what is
allowed, before anything is made; the screen opens its settings with the reason instead of a dead window."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kds_app.panels.settings_dialog import SettingsDialog
from kds_app.startup.config import AppConfig, ConfigError
from kds_app.startup.embedded import EmbeddedCompanion
from kds_app.windows.app import App
from tests.helpers.timeouts import scaled

TIMEOUT_S = scaled(60.0)
TTL_REFUSED = "KDS_ACCESS_TOKEN_TTL must be a whole number of seconds from 10 to 604800, not '1h'"


def test_a_bad_variable_is_named_before_anything_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KDS_ACCESS_TOKEN_TTL", "1h")
    monkeypatch.setenv("KDS_REALTIME_MAX_CHANNELS", "0")
    data = tmp_path / "data"
    with pytest.raises(ConfigError) as caught:
        EmbeddedCompanion(data)
    message = str(caught.value)
    assert TTL_REFUSED in message
    assert "KDS_REALTIME_MAX_CHANNELS must be a whole number of channels from 1 to 10000, not '0'" in message
    assert not data.exists() or list(data.iterdir()) == []  # no database, no secret


async def test_the_screen_opens_its_settings_saying_which_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KDS_ACCESS_TOKEN_TTL", "1h")
    app = App(AppConfig(sound=False), config_file=tmp_path / "config.json", data_dir=tmp_path / "data")
    opened = asyncio.Event()
    open_settings = app.open_settings

    def opening(error: str | None = None) -> SettingsDialog:
        dialog = open_settings(error)
        opened.set()
        return dialog

    monkeypatch.setattr(app, "open_settings", opening)
    running = asyncio.ensure_future(app.run())
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await opened.wait()
        assert app.dialog is not None and app.dialog.isVisible()
        assert TTL_REFUSED in app.dialog.error_label.text()
        assert app.embedded is None and app.session is None
    finally:
        app.request_stop()
        async with asyncio.timeout(TIMEOUT_S):
            assert await running == 0
