"""`python -m tests.faults run ...`: run fault schedules, print failures with a replay line, and rates per class.

    .venv/bin/python -m tests.faults run --seed 1234 --backend sqlite      # one schedule (a replay)
    .venv/bin/python -m tests.faults run --schedules 1000 --jobs 2          # a long run, seeds from --first-seed
    .venv/bin/python -m tests.faults run --seed 7 --plant drop_tombstones   # show a check failing
    .venv/bin/python -m tests.faults run --schedules 40 --hub --jobs 2      # every schedule with the hub tier
    .venv/bin/python -m tests.faults show --seed 1234                       # print the schedule, run nothing
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from .schedule import FAULT_CLASSES, generate, hub_picked


class Databases:
    """A database URL per schedule: a SQLite file in its directory, or a fresh database on one throwaway
    PostgreSQL 15 cluster started on first need (tests/pg_cluster.py)."""

    def __init__(self) -> None:
        self.cluster: Any = None

    def url(self, backend: str, workdir: Path, name: str) -> str:
        if backend == "sqlite":
            workdir.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{workdir / 'companion.db'}"
        if self.cluster is None:
            from tests.pg_cluster import PgCluster, find_pg_bin

            bindir = find_pg_bin()
            if bindir is None:
                raise RuntimeError("no PostgreSQL server installed (KDS_PG_BIN)")
            self.cluster = PgCluster(bindir)
            self.cluster.start()
        return self.cluster.create_database(name)

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


_DBS: Databases | None = None


def run_one(seed: int, backend: str | None, plant: str | None, root: str, qt: bool, chaos_s: float | None,
            force: tuple[str, ...] = (), pg_url: str | None = None, hub: bool | None = None,
            lan_pos: bool | None = None) -> dict[str, Any]:
    """Run one schedule (in this process); a plain dict comes back (it crosses process boundaries)."""
    from .runner import execute

    global _DBS
    schedule = generate(seed, backend=backend, qt=qt, chaos_s=chaos_s, force=force, hub=hub, lan_pos=lan_pos)
    flags = replay_flags(seed, schedule.hub, qt=qt, chaos_s=chaos_s, force=force, lan_pos=lan_pos)
    workdir = Path(root) / (f"seed-{seed}-{schedule.backend}" + ("" if not plant else f"-{plant}"))
    if pg_url and schedule.backend == "postgres":
        import psycopg

        name = f"faults_{seed}_{os.getpid()}_{int(time.time() * 1000) % 100000}"
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = pg_url.rsplit("/", 1)[0] + "/" + name
    else:
        if _DBS is None:
            _DBS = Databases()
        url = _DBS.url(schedule.backend, workdir, f"faults_{seed}_{int(time.time() * 1000) % 100000}")
    started = time.monotonic()
    try:
        result = asyncio.run(asyncio.wait_for(execute(schedule, workdir, url, plant), 480 if schedule.hub else 300))
    except Exception as exc:
        return {"seed": seed, "backend": schedule.backend, "classes": schedule.classes, "plant": plant,
                "violations": {"harness": [f"{type(exc).__name__}: {exc}"]}, "workdir": str(workdir),
                "replay": _replay(seed, schedule.backend, plant, flags), "elapsed_s": time.monotonic() - started,
                "liveness_s": None, "stats": {}}
    result.replay_flags = flags
    return {"seed": seed, "backend": result.backend, "classes": result.classes, "plant": plant,
            "violations": result.violations, "workdir": str(workdir), "replay": result.replay(),
            "elapsed_s": round(time.monotonic() - started, 1), "liveness_s": result.liveness_s,
            "stats": result.stats}


def _replay(seed: int, backend: str, plant: str | None, flags: str = "") -> str:
    return f".venv/bin/python -m tests.faults run --seed {seed} --backend {backend}" + (
        f" --plant {plant}" if plant else "") + (f" {flags}" if flags else "")


def replay_flags(seed: int, hub: bool, *, qt: bool = True, chaos_s: float | None = None,
                 force: tuple[str, ...] = (), lan_pos: bool | None = None) -> str:
    """What a replay line needs beyond seed, backend and plant to run the same schedule."""
    flags = [f"--force {f}" for f in force]
    if lan_pos is False:
        flags.append("--no-lan-pos")
    if hub != hub_picked(seed):
        flags.append("--hub" if hub else "--no-hub")
    if not qt:
        flags.append("--no-qt")
    if chaos_s is not None:
        flags.append(f"--chaos-s {chaos_s:g}")
    return " ".join(flags)


def failed(outcome: dict[str, Any]) -> list[str]:
    return [k for k, v in outcome["violations"].items() if v]


def report_failure(outcome: dict[str, Any], out: Any = sys.stdout) -> None:
    print(f"FAIL seed {outcome['seed']} ({outcome['backend']}; {', '.join(outcome['classes'])}): "
          f"{', '.join(failed(outcome))}", file=out)
    for check, lines in outcome["violations"].items():
        for line in lines:
            print(f"    [{check}] {line}", file=out)
    print(f"    logs: {outcome['workdir']}", file=out)
    print(f"    replay: {outcome['replay']}", file=out)


def upper_95(failures: int, n: int) -> float:
    """The 95 % upper bound of a failure rate (exact for 0 failures: 1 - 0.05^(1/n), about 3/n)."""
    if n == 0:
        return 1.0
    if failures == 0:
        return 1 - 0.05 ** (1 / n)
    p = failures / n
    return min(1.0, p + 1.96 * math.sqrt(p * (1 - p) / n) + 0.5 / n)


def rates(outcomes: list[dict[str, Any]]) -> str:
    lines = [f"{'fault class':<14} {'runs':>5} {'failed':>6} {'rate':>7} {'95% upper':>9}"]
    for cls in ("(all)", *FAULT_CLASSES):
        runs = [o for o in outcomes if cls == "(all)" or cls in o["classes"]]
        bad = [o for o in runs if failed(o)]
        if not runs:
            continue
        lines.append(f"{cls:<14} {len(runs):>5} {len(bad):>6} {len(bad) / len(runs):>7.1%} "
                     f"{upper_95(len(bad), len(runs)):>9.1%}")
    checks = Counter(c for o in outcomes for c in failed(o))
    lines.append("failed checks: " + (", ".join(f"{c} {n}" for c, n in checks.most_common()) or "none"))
    for backend in ("sqlite", "postgres"):
        runs = [o for o in outcomes if o["backend"] == backend]
        if runs:
            lines.append(f"{backend}: {len(runs)} runs, {sum(1 for o in runs if failed(o))} failed")
    live = [o["liveness_s"] for o in outcomes if o.get("liveness_s") is not None]
    if live:
        live.sort()
        lines.append(f"heal→converged: median {live[len(live) // 2]:.1f} s, max {live[-1]:.1f} s (bound 30 s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run schedules")
    show = sub.add_parser("show", help="print a schedule (no processes)")
    summarize = sub.add_parser("summarize", help="rates over the outcomes saved by one or more runs' --json")
    summarize.add_argument("json_files", type=Path, nargs="+")
    for p in (run, show):
        p.add_argument("--seed", type=int, action="append", help="repeatable; default: --schedules seeds")
        p.add_argument("--backend", choices=("sqlite", "postgres"), help="default: the seed picks")
        p.add_argument("--no-qt", action="store_true", help="no screen runs the real Qt app")
        p.add_argument("--chaos-s", type=float, help="chaos phase length (default: the seed picks 15-30 s)")
        tier = p.add_mutually_exclusive_group()
        tier.add_argument("--hub", action="store_true", default=None,
                          help="every schedule with the hub tier (default: the seed picks, about 30 %%)")
        tier.add_argument("--no-hub", dest="hub", action="store_false", help="no schedule with the hub tier")
        p.add_argument("--no-lan-pos", dest="lan_pos", action="store_const", const=False, default=None,
                       help="hub schedules without the POS on the hub's LAN")
    run.add_argument("--schedules", type=int, default=1)
    run.add_argument("--first-seed", type=int, help="default: random (printed)")
    run.add_argument("--jobs", type=int, default=1)
    run.add_argument("--plant", help="switch on a planted bug (tests/faults/README.md)")
    run.add_argument("--force", action="append", default=[], metavar="CLASS",
                     help="repeatable: at least one fault of this class (planted-bug runs; hub_kill_offline too)")
    run.add_argument("--workdir", type=Path, help="default: a new temp dir; kept on failure")
    run.add_argument("--keep", action="store_true", help="keep the directories of passing schedules too")
    run.add_argument("--json", type=Path, help="write every outcome here")
    run.add_argument(
        "--deadline-s", type=float, help="start no schedule after this many seconds; report the ones that ran"
    )
    args = parser.parse_args(argv)

    if args.command == "summarize":
        outcomes = [o for path in args.json_files for o in json.loads(path.read_text())]
        print(f"{len(outcomes)} schedules from {len(args.json_files)} run(s)")
        print(rates(outcomes))
        return 1 if any(failed(o) for o in outcomes) else 0
    if args.seed:
        seeds = args.seed
    else:
        first = args.first_seed if args.first_seed is not None else int.from_bytes(os.urandom(3), "big")
        seeds = list(range(first, first + args.schedules))
    if args.command == "show":
        for seed in seeds:
            s = generate(seed, backend=args.backend, qt=not args.no_qt, chaos_s=args.chaos_s, hub=args.hub,
                         lan_pos=args.lan_pos)
            print(json.dumps(s.to_json(), indent=1))
        return 0
    if args.plant:
        from .runner import PLANTS

        if args.plant not in PLANTS:
            parser.error(f"--plant must be one of {', '.join(PLANTS)}")
    root = args.workdir or Path(tempfile.mkdtemp(prefix="kds-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"{len(seeds)} schedule(s), seeds {seeds[0]}..{seeds[-1]}, jobs {args.jobs}, work dir {root}", flush=True)
    outcomes: list[dict[str, Any]] = []
    dbs = Databases()
    pg_url = None
    started = time.monotonic()
    try:
        needs_pg = any(generate(s, backend=args.backend, hub=args.hub).backend == "postgres" for s in seeds)
        for name in args.force:
            if name not in (*FAULT_CLASSES, "hub_kill_offline"):
                parser.error(f"--force {name}: not a fault class")
        if needs_pg and args.jobs > 1:
            pg_url = dbs.url("postgres", root, "faults_template")
        common = (args.backend, args.plant, str(root), not args.no_qt, args.chaos_s)
        force = tuple(args.force)
        deadline = None if args.deadline_s is None else started + args.deadline_s
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                futures = [pool.submit(run_one, seed, *common, force, pg_url, args.hub, args.lan_pos)
                           for seed in seeds]
                for future in as_completed(futures):
                    if future.cancelled():
                        continue
                    outcomes.append(_note(future.result(), args.keep))
                    if deadline is not None and time.monotonic() > deadline:
                        # Out of time: schedules not started yet are dropped, those running finish.
                        for waiting in futures:
                            waiting.cancel()
        else:
            for seed in seeds:
                if deadline is not None and time.monotonic() > deadline:
                    break
                outcomes.append(_note(run_one(seed, *common, force, hub=args.hub, lan_pos=args.lan_pos), args.keep))
    finally:
        if _DBS is not None:
            _DBS.close()
        dbs.close()
    print(f"\n{len(outcomes)} schedules in {time.monotonic() - started:.0f} s, jobs {args.jobs}")
    print(rates(outcomes))
    bad = [o for o in outcomes if failed(o)]
    if bad:
        print("\nfailing seeds (replay each with its line):")
        for o in sorted(bad, key=lambda o: o["seed"]):
            print(f"  {o['replay']}    # {', '.join(failed(o))}")
    if args.json:
        args.json.write_text(json.dumps(outcomes, indent=1, default=str))
    if not bad and not args.keep and args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if bad else 0


def _note(outcome: dict[str, Any], keep: bool) -> dict[str, Any]:
    if failed(outcome):
        report_failure(outcome)
    else:
        print(f"ok   seed {outcome['seed']} ({outcome['backend']}; {', '.join(outcome['classes'])}) "
              f"{outcome['elapsed_s']} s, converged in {outcome['liveness_s']:.1f} s", flush=True)
        if not keep:
            shutil.rmtree(outcome["workdir"], ignore_errors=True)
    return outcome


if __name__ == "__main__":
    raise SystemExit(main())
