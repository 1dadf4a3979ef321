"""The global options every verb (and every sub-verb, like `sandbox up`) accepts."""

from __future__ import annotations

import argparse

from pipeline.inputs import region_arg


def global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--profile", default=default, help="AWS profile for the base credentials")
    parser.add_argument("--region", default=default, type=region_arg, help="override the configured region")
    parser.add_argument(
        "--output", choices=("text", "json"), default=argparse.SUPPRESS if suppress else "text",
        help="text for people, json (one document on stdout) for scripts",
    )
    parser.add_argument(
        "--local", action="store_true", default=argparse.SUPPRESS if suppress else False,
        help="run against a fresh, empty embedded AWS emulator, for this command only (`pipeline local up` keeps one)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS if suppress else 0,
        help="more detail; tracebacks on errors",
    )
    parser.add_argument(
        "--config-dir", default=argparse.SUPPRESS if suppress else "environments",
        help="directory holding pipeline.yml and the env files (default: environments, here or in a parent "
             "directory up to the repository root)",
    )
