"""Command line of the benchmarks: ``run``, ``report``, ``scaling``, ``drift``, ``batch``,
``mutation``, ``distributed``, ``ab``."""

from __future__ import annotations

import argparse
import math
import pathlib
import shlex
import sys

__all__ = ["main"]

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results"


def _names(text: str) -> list[str]:
    if text.strip().lower() == "none":
        return []
    return [t.strip() for t in text.split(",") if t.strip()]


def _peers(text: str) -> set[str]:
    chosen = set(_names(text))
    unknown = chosen - {"moa", "river", "published"}
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown peers {sorted(unknown)}: use moa,river")
    return chosen


def _build() -> argparse.ArgumentParser:
    from . import peers

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run models and peers on real streams, then write the report")
    run.add_argument("--data", default=str(DATA), help="directory of MULAN/MEKA ARFF files")
    run.add_argument(
        "--datasets",
        default=None,
        help="comma-separated names, 'all', or (default) those with a published row",
    )
    run.add_argument(
        "--models",
        default="ihomer,ihomer-nolast,ihomer-nobalance,mlhat,majority",
        help="streamml models, or IHOMER variants of benchmarks.run.VARIANTS ('none': none)",
    )
    run.add_argument("--peers", type=_peers, default={"moa", "river"}, help="moa,river or none")
    run.add_argument(
        "--moa", default=",".join(peers.MOA_LEARNERS), help="MOA learners (report names)"
    )
    run.add_argument("--river", default=",".join(peers.RIVER_MODELS), help="river peers")
    run.add_argument("--out", default=str(RESULTS), help="output directory")
    run.add_argument("--time-limit", type=float, default=300.0, help="seconds per process")
    run.add_argument("--budget", type=float, default=math.inf, help="total seconds")
    run.add_argument("--pilot", type=int, default=1000, help="instances of a pilot run")
    run.add_argument("--limit", type=int, default=None, help="score at most N instances")
    run.add_argument("--workdir", default="/tmp/streamml-bench", help="scratch directory")
    run.add_argument("--no-moa-cache", action="store_true", help="rerun MOA even if cached")
    run.add_argument(
        "--allow-missing", action="store_true", help="skip (and report) unknown streamml models"
    )
    run.add_argument("--no-report", action="store_true", help="only write runs.csv")

    rep = sub.add_parser("report", help="rebuild report.md and the plots from runs.csv")
    rep.add_argument("--out", default=str(RESULTS), help="directory holding runs.csv")

    sc = sub.add_parser("scaling", help="cost per instance vs number of labels")
    sc.add_argument("--out", default=str(RESULTS))
    sc.add_argument("--data", default=str(DATA), help="real streams ('none': synthetic only)")
    sc.add_argument("--models", default="ihomer,river:br", help="child model specs")
    sc.add_argument("--labels", default="10,30,100,300,1000", help="synthetic label counts")
    sc.add_argument("--n", type=int, default=1000, help="instances per synthetic run")
    sc.add_argument("--real-n", type=int, default=500, help="instances per real run")
    sc.add_argument("--deadline", type=float, default=90.0, help="seconds of work per run")
    sc.add_argument("--time-limit", type=float, default=300.0, help="seconds per process")
    sc.add_argument("--datasets", default=None, help="real data sets (default: all)")

    dr = sub.add_parser("drift", help="structure-level drift detection on synthetic streams")
    dr.add_argument("--out", default=str(RESULTS))
    dr.add_argument("--scenarios", default="sudden,gradual,swaps,relation")
    dr.add_argument("--seeds", default="1,2,3")
    dr.add_argument("--models", default="ihomer,ihomer-static,mlhat", help="child model specs")
    dr.add_argument("--n", type=int, default=12_000, help="instances per stream")
    dr.add_argument("--tolerance", type=int, default=2_000, help="detection window")
    dr.add_argument("--time-limit", type=float, default=600.0, help="seconds per process")
    dr.add_argument(
        "--local-scenarios",
        default="1of4-sudden,1of4-gradual,2of8-sudden,2of8-gradual",
        help="changes confined to some groups ('none': skip the local part)",
    )
    dr.add_argument(
        "--local-models",
        default="ihomer,ihomer-static,mlhat,ihomer-noshare",
        help="models of the local part (run in lockstep in one process per stream)",
    )
    dr.add_argument("--local-n", type=int, default=10_000, help="instances per local stream")

    ba = sub.add_parser("batch", help="batch reference with scikit-multilearn")
    ba.add_argument("--out", default=str(RESULTS))
    ba.add_argument("--data", default=str(DATA))
    ba.add_argument("--datasets", default=None, help="names (default: streams up to --max-n)")
    ba.add_argument("--model", default="ihomer", help="online model (child model spec)")
    ba.add_argument("--max-n", type=int, default=10_000, help="longest stream by default")
    ba.add_argument("--time-limit", type=float, default=300.0, help="seconds per process")

    al = sub.add_parser(
        "all", help="the full benchmark: run, scaling, drift, batch, machine.md, report"
    )
    al.add_argument("--out", default=str(RESULTS))
    al.add_argument("--data", default=str(DATA))
    al.add_argument("--time-limit", type=float, default=300.0, help="seconds per process")
    al.add_argument("--budget", type=float, default=math.inf, help="total seconds of `run`")
    al.add_argument("--skip", default="", help="parts to skip: run,scaling,drift,batch")
    al.add_argument("--allow-missing", action="store_true", help="run without missing models")

    di = sub.add_parser(
        "distributed", help="iHOMER on K Ray shards against one process (needs the ray extra)"
    )
    di.add_argument("--out", default=str(RESULTS))
    di.add_argument("--data", default=str(DATA), help="directory of the ARFF streams")
    di.add_argument("--datasets", default="delicious,bibtex,corel5k", help="real streams")
    di.add_argument("--shards", default="1,2,4", help="numbers of shards")
    di.add_argument("--batch", type=int, default=500, help="instances per micro-batch")
    di.add_argument("--limit", type=int, default=4000, help="instances of each real stream")
    di.add_argument("--synthetic-labels", type=int, default=10000, help="labels of LabelGroups")
    di.add_argument("--synthetic-n", type=int, default=6000, help="its instances (0: none)")
    di.add_argument("--seed", type=int, default=1)
    di.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray")
    di.add_argument(
        "--no-default", action="store_true", help="leave out the default IHOMER (share=True)"
    )
    di.add_argument(
        "--no-reference",
        action="store_true",
        help="leave out IHOMER(share=False) too (speed of the shards only)",
    )

    th = sub.add_parser(
        "thresholds",
        help="decisions of IHOMER's probabilities (compose.FMeasureThresholds, "
        "compose.SeenLabelSets) vs the default",
    )
    th.add_argument("--out", default=str(RESULTS))
    th.add_argument("--data", default=str(DATA), help="directory of the ARFF streams")
    th.add_argument("--datasets", default=None, help="names (default: the 17 published)")
    th.add_argument("--seed", type=int, default=42)
    th.add_argument("--report", action="store_true", help="only rewrite thresholds.md")

    ab = sub.add_parser(
        "ab", help="speed of this tree against a git revision, in interleaved processes"
    )
    ab.add_argument("--base", required=True, help="the revision to compare with (e.g. HEAD~3)")
    ab.add_argument(
        "--streams",
        nargs="+",
        default=[str(DATA / "yeast.arff")],
        help="ARFF paths or benchmarks.child stream specs (synth:..., drift:...)",
    )
    ab.add_argument("--models", default="ihomer,mlhat", help="benchmarks.child model specs")
    ab.add_argument("--reps", type=int, default=3, help="runs of each side (the best is kept)")
    ab.add_argument("--limit", type=int, default=None, help="first N instances of each stream")

    ma = sub.add_parser("machine", help="describe this machine in machine.md")
    ma.add_argument("--out", default=str(RESULTS))

    mu = sub.add_parser(
        "mutation", help="mutation testing with mutmut (per module; writes mutation.md)"
    )
    mu.add_argument("--out", default=str(RESULTS))
    mu.add_argument("--modules", default=None, help="comma-separated names (default: all)")
    mu.add_argument("--workdir", default="/tmp/streamml-mutation", help="scratch directory")
    mu.add_argument("--time-limit", type=float, default=4 * 3600, help="seconds per module")
    mu.add_argument("--children", type=int, default=2, help="mutants tested at once")
    mu.add_argument("--report", action="store_true", help="only rewrite mutation.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    import time

    args = _build().parse_args(argv)
    start = time.perf_counter()
    code = _dispatch(args, argv)
    if code == 0 and args.command in ("run", "scaling", "drift", "batch"):
        command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
        _record_duration(pathlib.Path(args.out), args.command, time.perf_counter() - start, command)
    return code


def _record_duration(out: pathlib.Path, part: str, seconds: float, command: str) -> None:
    """Keep the duration, start (UTC) and command of each part in ``out/durations.json``
    (total = sum of the parts; `all` then names itself as the command of the parts it ran)."""
    import datetime
    import json

    path = out / "durations.json"
    durations = json.loads(path.read_text()) if path.exists() else {}
    durations[part] = round(seconds, 1)
    started = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds)
    durations.setdefault("started", {})[part] = started.strftime("%Y-%m-%d %H:%M")
    durations.setdefault("commands", {})[part] = command
    durations["total"] = round(
        sum(durations.get(k, 0) for k in ("run", "scaling", "drift", "batch")), 1
    )
    path.write_text(json.dumps(durations, indent=1) + "\n")


def _dispatch(args: argparse.Namespace, argv: list[str] | None) -> int:
    if args.command == "run":
        from . import peers, run

        models = _names(args.models)
        missing = [m for m in models if m not in _streamml_models()]
        if missing and not args.allow_missing:
            print(
                f"unknown streamml models: {missing} (have {_streamml_models()}; "
                "--allow-missing runs without them)",
                file=sys.stderr,
            )
            return 2
        models = [m for m in models if m not in missing]
        moa = _names(args.moa) if "moa" in args.peers else []
        river = _names(args.river) if "river" in args.peers else []
        bad = (set(moa) - set(peers.MOA_LEARNERS)) | (set(river) - set(peers.RIVER_MODELS))
        if bad:
            print(f"unknown peers: {sorted(bad)}", file=sys.stderr)
            return 2
        run.run_all(
            args.data,
            args.out,
            datasets=_names(args.datasets) if args.datasets else None,
            models=models,
            moa=moa,
            river=river,
            time_limit=args.time_limit,
            budget=args.budget,
            pilot=args.pilot,
            limit=args.limit,
            workdir=args.workdir,
            moa_cache=not args.no_moa_cache,
            missing_models=missing,
            command="python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv),
        )
        if not args.no_report:
            from . import report

            report.write_report(args.out)
        return 0
    if args.command == "report":
        from . import report

        report.write_report(args.out)
        return 0
    if args.command == "distributed":
        from .distributed import run_distributed

        run_distributed(
            args.data,
            args.out,
            datasets=_names(args.datasets),
            shards=[int(k) for k in _names(args.shards)],
            batch=args.batch,
            limit=args.limit,
            synthetic_labels=args.synthetic_labels,
            synthetic_n=args.synthetic_n,
            seed=args.seed,
            num_cpus=args.num_cpus,
            default=not (args.no_default or args.no_reference),
            reference=not args.no_reference,
        )
        return 0
    if args.command == "scaling":
        from . import scaling

        scaling.run_scaling(
            args.out,
            data_dir=None if args.data == "none" else args.data,
            models=_names(args.models),
            labels=[int(v) for v in _names(args.labels)],
            n=args.n,
            real_n=args.real_n,
            deadline=args.deadline,
            time_limit=args.time_limit,
            datasets=_names(args.datasets) if args.datasets else None,
        )
        return 0
    if args.command == "drift":
        from . import drift, drift_local

        seeds = [int(v) for v in _names(args.seeds)]
        if _names(args.local_scenarios):
            drift_local.run_local(
                args.out,
                scenarios=_names(args.local_scenarios),
                seeds=seeds,
                models=_names(args.local_models),
                n_samples=args.local_n,
                time_limit=3 * args.time_limit,
            )
        if _names(args.scenarios):
            drift.run_drift(
                args.out,
                scenarios=_names(args.scenarios),
                seeds=seeds,
                models=_names(args.models),
                n_samples=args.n,
                tolerance=args.tolerance,
                time_limit=args.time_limit,
            )
        else:
            drift.write_drift_report(args.out, tolerance=args.tolerance)
        return 0
    if args.command == "ab":
        from .ab import run_ab, table

        rows = run_ab(args.base, args.streams, _names(args.models), args.reps, args.limit)
        print(table(rows, args.base))
        return 0
    if args.command == "thresholds":
        from . import thresholds

        if args.report:
            print(thresholds.write_thresholds_report(args.out))
        else:
            streams = _names(args.datasets) if args.datasets else thresholds.STREAMS
            print(thresholds.run_thresholds(args.out, args.data, streams, args.seed))
        return 0
    if args.command == "batch":
        from . import batch_reference

        batch_reference.run_batch(
            args.out,
            args.data,
            datasets=_names(args.datasets) if args.datasets else None,
            model=args.model,
            max_instances=args.max_n,
            time_limit=args.time_limit,
        )
        return 0
    if args.command == "all":
        return _all(args)
    if args.command == "mutation":
        from . import mutation, mutation_report

        if args.report:
            print(mutation_report.write_report(args.out))
            return 0
        try:
            path = mutation.run_mutation(
                args.out,
                modules=_names(args.modules) if args.modules else None,
                workdir=args.workdir,
                time_limit=args.time_limit,
                children=args.children,
                command="python -m benchmarks "
                + shlex.join(sys.argv[1:] if argv is None else argv),
            )
        except (ImportError, ValueError) as error:
            print(f"python -m benchmarks mutation: {error}", file=sys.stderr)
            return 2
        print(path)
        return 0
    if args.command == "machine":
        from . import machine

        print(machine.write_machine(args.out))
        return 0
    return 2


def _all(args: argparse.Namespace) -> int:
    """Every part with its defaults, one after the other (see the README, Benchmarks)."""
    import json

    from . import machine, report

    skip = set(_names(args.skip))
    machine.write_machine(args.out)
    common = ["--out", args.out]
    steps = [
        (
            "run",
            [
                "run",
                "--data",
                args.data,
                "--time-limit",
                str(args.time_limit),
                "--budget",
                str(args.budget),
                "--no-report",
            ]
            + (["--allow-missing"] if args.allow_missing else []),
        ),
        ("scaling", ["scaling", "--data", args.data]),
        ("drift", ["drift"]),
        ("batch", ["batch", "--data", args.data]),
    ]
    for name, argv in steps:
        if name in skip:
            continue
        code = main(argv + common)  # records its duration in durations.json
        if code:
            return code
    path = pathlib.Path(args.out) / "durations.json"
    durations = json.loads(path.read_text()) if path.exists() else {}
    command = "python -m benchmarks all " + shlex.join(sys.argv[2:])
    durations["command"] = command
    ran = durations.setdefault("commands", {})  # the parts it ran: this command
    ran.update({name: command for name, _ in steps if name not in skip})
    path.write_text(json.dumps(durations, indent=1) + "\n")
    report.write_report(args.out)
    return 0


def _streamml_models() -> list[str]:
    from streamml import models

    from .run import VARIANTS

    return models.names() + list(VARIANTS)
