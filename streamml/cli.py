"""The `streamml` command line: `evaluate` a model on a stream, `serve` predictions."""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing

from . import models

__all__ = ["main"]

DEFAULT_MODEL = "ihomer"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _default_model() -> str:
    return DEFAULT_MODEL if DEFAULT_MODEL in models.names() else "majority"


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="streamml",
        description="Online multi-label classification on data streams.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    model_help = "; ".join(f"{name}: {desc}" for name, (_, desc) in models.MODELS.items())
    ev = sub.add_parser(
        "evaluate",
        help="prequential (test-then-train) evaluation of a model on a stream",
        description=(
            "Test-then-train evaluation over every instance of a stream, in order. Prints a "
            "table of subset accuracy, Hamming loss, micro/macro F1 and example-based F1 "
            "(1 when both label sets are empty), with the speed."
        ),
    )
    ev.add_argument(
        "--data",
        default="yeast",
        metavar="PATH|yeast",
        help="a MULAN/MEKA ARFF file, or 'yeast' for river's embedded Yeast (default)",
    )
    ev.add_argument(
        "--labels",
        default=None,
        metavar="NAMES",
        help="comma-separated label attribute names, for an ARFF file with neither a MULAN "
        ".xml beside it nor a MEKA '-C' relation",
    )
    ev.add_argument(
        "--model",
        default=_default_model(),
        choices=models.names(),
        metavar="NAME",
        help=f"the model (default: {_default_model()}); {model_help}",
    )
    ev.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="stop after N instances",
    )
    ev.add_argument(
        "--seed",
        type=int,
        default=42,
        metavar="S",
        help="random seed (default 42)",
    )
    ev.add_argument(
        "--batch",
        type=_positive_int,
        default=1,
        metavar="B",
        help="mini-batches of B instances: predict B, then learn them; 1 is instance by "
        "instance (default 1)",
    )
    _sharding_arguments(ev)
    ev.add_argument(
        "--thresholds",
        default=None,
        choices=("macro", "micro"),
        help="decide with thresholds learned online for the F-measure "
        "(compose.FMeasureThresholds): one per label (macro) or one for all (micro), in place "
        "of the model's own decision (iHOMER's: the most probable label set seen so far, or "
        "each label against one threshold at 0.2 of the way towards the micro-F1's)",
    )
    ev.add_argument(
        "--strength",
        type=_unit_float,
        default=1.0,
        metavar="F",
        help="with --thresholds: how far the thresholds go from 0.5 towards the F-measure's, "
        "in [0, 1] (default 1.0)",
    )
    ev.add_argument(
        "--no-last-set",
        action="store_true",
        help="iHOMER decides its own probabilities only, never those mixed with the last "
        "true label set (IHOMER(last_set=False))",
    )
    ev.add_argument(
        "--no-label-balance",
        action="store_true",
        help="iHOMER answers the label sets its decision gives, without correcting the labels "
        "answered far more or (rare ones) far less often than they occur "
        "(IHOMER(label_balance=False))",
    )
    ev.add_argument(
        "--window",
        type=_positive_int,
        default=500,
        metavar="W",
        help="sliding window of the metric curves (default 500)",
    )
    ev.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object of the results instead of the table",
    )
    ev.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="write a PNG of the windowed metrics with the model's drift events",
    )
    ev.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the progress bar",
    )

    sv = sub.add_parser(
        "serve",
        help="run the prediction service (HTTP, Prometheus metrics)",
        description="Run the FastAPI prediction service with durable learning.",
    )
    sv.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="H",
        help="address to bind (default 127.0.0.1)",
    )
    sv.add_argument(
        "--port",
        type=int,
        default=8000,
        metavar="P",
        help="port (default 8000)",
    )
    sv.add_argument(
        "--data-dir",
        default="streamml-data",
        metavar="DIR",
        help="where the event log and snapshots live (default ./streamml-data)",
    )
    sv.add_argument(
        "--model",
        default=_default_model(),
        choices=models.names(),
        metavar="NAME",
        help=f"model for a new data directory (default: {_default_model()})",
    )
    sv.add_argument("--seed", type=int, default=42, metavar="S", help="random seed (default 42)")
    _sharding_arguments(sv, remembered=True)
    return parser


def _sharding_arguments(parser: argparse.ArgumentParser, remembered: bool = False) -> None:
    kept = "; a data directory keeps its number of shards" if remembered else ""
    parser.add_argument(
        "--shards",
        type=_positive_int,
        default=None,
        metavar="K",
        help="run iHOMER's label clusters on K Ray actors (needs the ray extra: pip install "
        f'"streamml[ray]"; --model ihomer only){kept}',
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        metavar="A",
        help="the Ray cluster of the shards, e.g. auto or ray://head:10001; without it, a local "
        "Ray is started on demand, with the machine's CPUs",
    )


def _check_sharding(args: argparse.Namespace) -> None:
    """--shards needs Ray and iHOMER; --ray-address needs --shards (ValueError if not)."""
    if args.shards is None:
        if args.ray_address is not None:
            raise ValueError("--ray-address needs --shards")
        return
    if args.model != models.SHARDABLE:
        raise ValueError(f"--shards runs --model {models.SHARDABLE} only, not {args.model}")
    try:
        models.check_sharding()
    except ImportError as error:  # one line: how to install Ray
        raise ValueError(str(error)) from None


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _open_stream(data: str, labels: str | None):
    if data.lower() == "yeast":
        if labels is not None:
            raise ValueError("--labels is for an ARFF file; yeast has its own labels")
        from river import datasets

        return datasets.Yeast()
    from .datasets import ARFF

    names = [name.strip() for name in labels.split(",") if name.strip()] if labels else None
    stream = ARFF(data, labels=names)
    if stream.n_samples == 0:
        raise ValueError(f"{data}: no instances to evaluate")
    return stream


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluate import prequential

    _check_sharding(args)
    if args.plot is not None and not os.path.isdir(os.path.dirname(args.plot) or "."):
        raise ValueError(f"--plot {args.plot}: no such directory")
    if args.thresholds is None and args.strength != 1.0:
        raise ValueError("--strength needs --thresholds")
    if args.thresholds is not None and (args.shards is not None or args.batch > 1):
        raise ValueError("--thresholds decides instance by instance: not with --shards or --batch")
    stream = _open_stream(args.data, args.labels)
    flags = {"last_set": args.no_last_set, "label_balance": args.no_label_balance}
    off = {name: False for name, given in flags.items() if given}  # iHOMER's options turned off
    if off and args.model != models.SHARDABLE:
        flag = "--no-" + next(iter(off)).replace("_", "-")
        raise ValueError(f"{flag} is an option of {models.SHARDABLE!r}, not {args.model!r}")
    model = models.make(args.model, seed=args.seed, shards=args.shards, address=args.ray_address)
    if off:
        model = model.clone(off)
    if args.thresholds is not None:
        from .compose import FMeasureThresholds

        model = FMeasureThresholds(model, average=args.thresholds, strength=args.strength)
    try:
        result = prequential(  # (the progress bar's total: the stream's n_samples, or the limit)
            model,
            stream,
            limit=args.limit,
            window=args.window,
            progress=not (args.json or args.no_progress),
            plot=args.plot,
            batch=args.batch,
        )
    finally:
        if args.shards is not None:
            model.close()  # stop the shards' actors
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        from rich.console import Console

        table = result.table(title=f"{args.model} on {args.data}")
        if args.limit and result.n == args.limit and result.n != stream.n_samples:
            # cut by --limit: not the whole stream
            table.caption = table.caption.replace("whole stream", f"first {result.n:,} instances")
        Console().print(table)
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    _check_sharding(args)
    import service  # the only place in streamml that reaches the service

    service.run(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        model=args.model,
        seed=args.seed,
        shards=args.shards,
        ray_address=args.ray_address,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `streamml` command."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    # The learners make many small numpy calls per instance: a multi-threaded BLAS only adds
    # synchronisation to them (about 10x slower on delicious), so use one thread.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        if args.command == "evaluate":
            return _evaluate(args)
        return _serve(args)
    except KeyboardInterrupt:
        print("streamml: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as error:
        print(f"streamml: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
