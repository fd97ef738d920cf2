"""`kds`: until the touchscreen app lands, this runs the product's embedded default, the companion
in-process on SQLite in the user data directory, and prints how to reach it."""

from __future__ import annotations

import sys

from kds_backend.cli import main as backend_main


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return backend_main(["serve", *args])


if __name__ == "__main__":
    sys.exit(main())
