"""`kds --self-test`: proves that this build of the screen works end to end, then exits 0 (or 1 with the reason).

Meant for installers and for CI after freezing: it runs the real thing, nothing mocked. The embedded companion
starts in a temporary directory, a screen session starts on it (offscreen unless QT_QPA_PLATFORM says
otherwise), a POS posts one order, the ticket must arrive over the realtime websocket, the screen bumps it with
the same two taps a cook makes, and the bump must reach the server (outbox empty, the server's items done,
read back over REST). Then everything stops in order. Each step has its own time limit and the whole run is
bounded (`TOTAL_TIMEOUT_S`), so a hung build fails instead of hanging the installer or CI.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Report", "StepFailed", "StepResult", "run_self_test", "run_step"]

TOTAL_TIMEOUT_S = 60.0
STOP_RESERVE_S = 15.0  # kept back from the steps so stopping always has time, and the total stays bounded
STEP_TIMEOUTS_S = {
    "resources": 5.0,
    "companion started": 20.0,
    "screen live": 15.0,
    "order posted": 10.0,
    "ticket received over realtime": 10.0,
    "ticket bumped on the screen": 5.0,
    "bump synced to the server": 15.0,
}
STATION = "grill"


class StepFailed(Exception):
    """A check inside a step did not hold; the message says what was expected and what was seen."""


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Report:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failure(self) -> StepResult | None:
        return next((step for step in self.steps if not step.ok), None)

    def render(self) -> str:
        lines = ["kds self-test"]
        for step in self.steps:
            status = "ok" if step.ok else "FAILED"
            detail = f": {step.detail}" if step.detail else ""
            lines.append(f"  {status:<6} {step.name} ({step.seconds:.2f} s){detail}")
        failure = self.failure
        if failure is None and self.steps:
            lines.append("self-test passed")
        else:
            reason = f"{failure.name}: {failure.detail}" if failure is not None else "no step ran"
            lines.append(f"self-test FAILED: {reason}")
        return "\n".join(lines)


async def run_step(
    report: Report,
    name: str,
    step: Callable[[], Awaitable[str | None]],
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    waiting_for: Callable[[], str] | None = None,
) -> bool:
    """Run one step within `timeout_s` and record it. Any exception, or the timeout, fails the step with a
    readable reason; it is never raised further (the caller skips what depends on it and stops cleanly).
    `waiting_for()` says, on a timeout, what the step was still waiting for."""
    start = clock()
    try:
        async with asyncio.timeout(timeout_s):
            detail = await step()
    except TimeoutError:
        reason = f"timed out after {timeout_s:g} s"
        hint = waiting_for() if waiting_for is not None else ""
        report.steps.append(StepResult(name, False, clock() - start, f"{reason}: {hint}" if hint else reason))
        return False
    except Exception as exc:
        reason = str(exc) if isinstance(exc, StepFailed) else f"{type(exc).__name__}: {exc}"
        report.steps.append(StepResult(name, False, clock() - start, reason))
        return False
    report.steps.append(StepResult(name, True, clock() - start, detail or ""))
    return True


class _SelfTest:
    """The steps, in order, sharing what earlier steps made. Imports of the app are here, not at module
    level, so `kds --self-test` reports a broken import (a module missing from a frozen bundle) as a failed
    step instead of a traceback."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.companion: Any = None  # EmbeddedCompanion
        self.session: Any = None  # Session
        self.order_id: str | None = None
        self.ticket_key: str | None = None
        self.realtime_orders: set[str] = set()
        self.waiting_for = ""  # what the running step waits for: the reason given if it times out

    def describe_wait(self) -> str:
        if self.waiting_for != "the ticket" or self.session is None:
            return self.waiting_for
        # Which half is missing tells realtime trouble (catch-up found it) from an order that never arrived.
        shown = "shown" if self._ticket() is not None else "not shown"
        heard = "seen" if self.order_id in self.realtime_orders else "not seen"
        state = self.session.engine.connection_state.value.name.lower()
        return f"the ticket: {shown} on the screen, {heard} over realtime (connection {state})"

    async def resources(self) -> str:
        import resources

        from ..media import theme

        sheet = theme.style_sheet(18)  # reads theme.qss, as the app does on start
        if "@FONT_PT@" in sheet or not sheet.strip():
            raise StepFailed(f"{resources.THEME_QSS} is empty or was not filled in")
        if not resources.NEW_TICKET_SOUND.is_file():
            raise StepFailed(f"{resources.NEW_TICKET_SOUND} is missing")
        from PySide6.QtWidgets import QApplication

        qapp = QApplication.instance()
        assert isinstance(qapp, QApplication)
        qapp.setStyleSheet(sheet)
        # Every shipped translation loads, and the fonts its script needs (a kitchen PC may have none).
        from ..media.language import available_languages, load_fonts, native_name, use_language

        languages = available_languages()
        if "am" not in languages:
            raise StepFailed(f"no Amharic translation in {resources.I18N}")
        if "Noto Sans Ethiopic" not in load_fonts():
            raise StepFailed(f"Noto Sans Ethiopic did not load from {resources.FONTS}")
        for code in languages:
            use_language(code)  # raises if the file does not load
        use_language("en")
        names = ", ".join(native_name(code) for code in languages)
        return f"theme, sound, languages ({names}) and fonts in {resources.ROOT}"

    async def start_companion(self) -> str:
        from ..startup.embedded import EmbeddedCompanion

        self.companion = EmbeddedCompanion(self.root / "companion")
        # start() blocks until migrations ran and the socket serves: keep the UI loop turning meanwhile.
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.companion.start(timeout_s=STEP_TIMEOUTS_S["companion started"])
        )
        return self.companion.url

    async def start_screen(self) -> str:
        from api_client.models import OrderChange, OrderItemChange
        from sync import ChangeEvent

        from ..startup.config import AppConfig
        from ..startup.connect import build_engine_config
        from ..windows.app import Session

        config = AppConfig(sound=False)  # the embedded default, all stations; a self-test must not chime
        connection = await build_engine_config(config, self.root / "screen", embedded=self.companion)
        self.session = Session.create(config, connection)

        def seen(event: object) -> None:
            # Recorded here, beside the engine's own handler: proof the ticket came over the websocket, not
            # from the REST catch-up.
            if isinstance(event, ChangeEvent) and isinstance(event.change, OrderChange | OrderItemChange):
                record = event.change.record
                if record is not None:
                    self.realtime_orders.add(str(getattr(record, "order_id", None) or record.id))

        self.session.engine.realtime.add_handler(seen)
        await self.session.start(fullscreen=False)
        self.waiting_for = "the engine to connect and catch up with the companion"
        await self.session.engine.caught_up.wait_for(True)
        return f"{self.session.engine.connection_state.value.name.lower()}, caught up"

    async def _pos(self) -> Any:
        import httpx

        from api_client.models import DeviceRole

        tokens = self.companion.token_provider(DeviceRole.pos, "pos-self-test")
        headers = {"apikey": self.companion.anon_key, "Authorization": f"Bearer {await tokens.get_token()}"}
        return httpx.AsyncClient(base_url=self.companion.url, headers=headers, timeout=5.0)

    async def post_order(self) -> str:
        from api_client.models import OrderIntake, OrderItemIntake

        order = OrderIntake(
            number="SELFTEST",
            table_label="1",
            items=[
                OrderItemIntake(name="Cheeseburger", station=STATION, modifiers=["no onion"]),
                OrderItemIntake(name="Fries", station=STATION, quantity=2),
            ],
        )
        async with await self._pos() as http:
            response = await http.post(
                "/api/v1/orders", json=order.model_dump(mode="json"), headers={"Idempotency-Key": str(uuid.uuid4())}
            )
        if response.status_code not in (200, 201):
            raise StepFailed(f"POST /api/v1/orders answered {response.status_code}: {response.text[:200]}")
        self.order_id = str(response.json()["id"])
        return f"order {self.order_id}"

    def _ticket(self) -> Any:
        return next(
            (
                t
                for t in self.session.screen.model.tickets()
                if str(t.order.id) == self.order_id and t.station == STATION
            ),
            None,
        )

    async def receive_ticket(self) -> str:
        engine = self.session.engine
        self.waiting_for = "the ticket"
        async with engine.changes() as changes:
            while self._ticket() is None or self.order_id not in self.realtime_orders:
                await changes.get()
        ticket = self._ticket()
        self.ticket_key = ticket.key
        return f"ticket {ticket.order.number} on the {STATION} screen with {len(ticket.order.order_items)} items"

    async def bump(self) -> str:
        screen = self.session.screen
        screen.action(self.ticket_key)  # the first tap arms the BUMP zone...
        if self._ticket() is None:
            raise StepFailed("a single tap bumped the ticket (the bump must take two taps)")
        screen.action(self.ticket_key)  # ...the second, within the window, bumps
        if self._ticket() is not None:
            raise StepFailed("the ticket is still on the screen after the second tap")
        return "two taps, ticket gone from the screen"

    async def synced(self) -> str:
        from api_client.models import ItemStatus

        self.waiting_for = "the outbox to drain"
        await self.session.engine.queue_depth.wait_for(0)
        error = self.session.engine.last_error.value
        if error:
            raise StepFailed(f"the engine reports: {error}")
        async with await self._pos() as http:
            while True:
                response = await http.get(
                    "/rest/v1/orders", params={"id": f"eq.{self.order_id}", "select": "*,order_items(*)"}
                )
                if response.status_code != 200:
                    raise StepFailed(f"GET /rest/v1/orders answered {response.status_code}: {response.text[:200]}")
                rows = response.json()
                if len(rows) != 1:
                    raise StepFailed(f"the server has {len(rows)} orders with id {self.order_id}")
                statuses = [item["status"] for item in rows[0]["order_items"]]
                if statuses and all(status == ItemStatus.done.value for status in statuses):
                    return f"outbox empty; server: order {rows[0]['status']}, items {', '.join(statuses)}"
                # The outbox is empty, yet the server's items are not done: the bump was refused or lost.
                self.waiting_for = f"the server's items to be done; they are {', '.join(statuses) or 'none'}"
                await asyncio.sleep(0.1)  # the queue drained, so this is at most a moment

    async def stop(self, report: Report) -> None:
        """Session first (the engine's last batch is answered), then the companion; each bounded, each
        reported. Runs whatever happened before."""
        if self.session is not None:
            session, self.session = self.session, None

            async def stop_session() -> str:
                await session.stop()
                return "engine stopped, window closed"

            await run_step(report, "screen stopped", stop_session, STOP_RESERVE_S / 2)
        if self.companion is not None:
            companion, self.companion = self.companion, None

            async def stop_companion() -> str:
                await asyncio.get_running_loop().run_in_executor(None, lambda: companion.stop(timeout_s=3.0))
                if companion.running:
                    raise StepFailed("the companion's server thread is still running")
                return "server thread ended"

            await run_step(report, "companion stopped", stop_companion, STOP_RESERVE_S / 2)


async def _run(root: Path) -> Report:
    from PySide6.QtCore import QTimer

    from ..startup.main_thread_gc import MainThreadGC

    report = Report()
    test = _SelfTest(root)
    deadline = time.monotonic() + TOTAL_TIMEOUT_S - STOP_RESERVE_S
    steps: list[tuple[str, Callable[[], Awaitable[str | None]]]] = [
        ("resources", test.resources),
        ("companion started", test.start_companion),
        ("screen live", test.start_screen),
        ("order posted", test.post_order),
        ("ticket received over realtime", test.receive_ticket),
        ("ticket bumped on the screen", test.bump),
        ("bump synced to the server", test.synced),
    ]
    # The companion thread allocates too: cyclic GC must run on this (the UI) thread only, as in the app.
    with MainThreadGC() as gc:
        gc_timer = QTimer()
        gc_timer.setInterval(500)
        gc_timer.timeout.connect(gc.tick)
        gc_timer.start()
        try:
            for name, step in steps:
                budget = min(STEP_TIMEOUTS_S[name], deadline - time.monotonic())
                test.waiting_for = ""
                if not await run_step(report, name, step, max(budget, 0.0), waiting_for=test.describe_wait):
                    break
        finally:
            await test.stop(report)
            gc_timer.stop()
    return report


def run_self_test() -> int:
    """The `--self-test` command: prints the report to stdout; 0 when every step passed, else 1."""
    # Before Qt is imported anywhere: a kitchen PC's installer or CI may have no display at all.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        import qasync
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        print(f"kds self-test\nself-test FAILED: cannot import Qt: {exc}", flush=True)  # noqa: T201 - the report
        return 1
    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("kds")
    assert isinstance(qapp, QApplication)
    qapp.setQuitOnLastWindowClosed(False)  # closing the session's window must not stop the loop mid-test
    with tempfile.TemporaryDirectory(prefix="kds-self-test-") as tmp:
        report = qasync.run(_run(Path(tmp)))
    print(report.render(), flush=True)  # noqa: T201 - the command's output
    return 0 if report.ok else 1
