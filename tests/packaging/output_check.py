"""What a clean run of `kds` may print on stderr, shared by the frozen-bundle and the from-source checks.

Modelled on qutebrowser's smoke test: every stderr line must match an allowlisted pattern, each with the reason
it is harmless. Anything else (a traceback, a logged error or warning, a Qt `QObject::`/`QWidget::` complaint,
a missing plugin) fails the test.
"""

from __future__ import annotations

import os
import re

ALLOWED_STDERR = [
    # The offscreen platform says this for every top-level window it shows; harmless without a window manager
    # (the same entry as qt_log_ignore in pyproject.toml).
    re.compile(r"This plugin does not support propagateSizeHints\(\)"),
]


def unexpected_stderr(stderr: str) -> list[str]:
    """The stderr lines that are not on the allowlist (empty: clean)."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not any(pattern.fullmatch(line.strip()) for pattern in ALLOWED_STDERR)
    ]


def clean_env(home: str, **extra: str) -> dict[str, str]:
    """A minimal environment, as a kitchen PC's session or a CI job would give: no venv, no developer's
    settings. QT_QPA_PLATFORM=offscreen because there is no display; a UTF-8 locale because Qt complains on
    stderr without one (a desktop session always has one)."""
    runtime = f"{home}/runtime"
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "XDG_CONFIG_HOME": f"{home}/.config",
        "XDG_DATA_HOME": f"{home}/.local/share",
        "XDG_CACHE_HOME": f"{home}/.cache",
        "XDG_RUNTIME_DIR": runtime,  # Qt warns on stderr when it is unset
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }
    env.update(extra)
    return env


_STEP = re.compile(r"^\s+(ok|FAILED)\s+(.+?) \(\d+\.\d+ s\)(?:: .*)?$")


def report_steps(stdout: str) -> dict[str, str]:
    """`{step name: "ok" | "FAILED"}` from a `kds --self-test` report."""
    return {m.group(2): m.group(1) for line in stdout.splitlines() if (m := _STEP.match(line))}
