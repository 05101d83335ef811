"""`python -m service`: run the service with every setting on the command line."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from .config import ServiceConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m service",
        description="Run the streamml prediction service. Unset options come from the STREAMML_* "
        "environment variables, then from the defaults.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    env = ServiceConfig.environment()
    for field in dataclasses.fields(ServiceConfig):
        if field.name == "model_factory":
            continue
        kind = {"int": int, "float": float}.get(str(field.type), str)
        option = "--" + field.name.replace("_", "-")
        if str(field.type) == "bool":
            parser.add_argument(
                option,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"(env {env[field.name]}; default {field.default})",
            )
        else:
            parser.add_argument(
                option,
                type=kind,
                default=None,
                help=f"(env {env[field.name]}; default {field.default})",
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = vars(_parser().parse_args(argv))
    from .app import run

    host, port, log_level = args.pop("host"), args.pop("port"), args.pop("log_level")
    try:
        run(host=host, port=port, log_level=log_level, **args)
    except (OSError, ValueError) as error:
        print(f"python -m service: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
