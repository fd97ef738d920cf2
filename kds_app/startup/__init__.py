"""Getting a screen running: its settings file (`config`), signing in and the engine's config (`connect`), the
in-process companion (`embedded`, the only module of `kds_app` that imports `kds_backend`), the log file and the
main-thread garbage collector."""
