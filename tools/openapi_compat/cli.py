"""The command line: compare two files, or every committed version of one."""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess

import tools.openapi_compat
from tools.openapi_compat.changes import Schema
from tools.openapi_compat.operations import compare


def committed_versions(path: str) -> list[Schema]:
    """Every version of `path` committed on this branch (first parents: merged branches count
    as one change), oldest first."""
    commits = subprocess.run(  # noqa: S603
        ["git", "log", "--first-parent", "--format=%H", "--reverse", "--", path],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    versions = []
    for commit in commits:
        shown = subprocess.run(  # noqa: S603
            ["git", "show", f"{commit}:{path}"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if shown.returncode == 0:
            versions.append(json.loads(shown.stdout))
    return versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.openapi_compat",
        description=tools.openapi_compat.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--history", metavar="FILE", help="check every committed change of FILE")
    parser.add_argument("documents", nargs="*", metavar="OLD NEW")
    args = parser.parse_args(argv)
    if args.history:
        versions = committed_versions(args.history)
        with open(args.history, encoding="utf-8") as handle:
            versions.append(json.load(handle))
        pairs = list(itertools.pairwise(versions))
    elif len(args.documents) == 2:
        loaded = []
        for name in args.documents:
            with open(name, encoding="utf-8") as handle:
                loaded.append(json.load(handle))
        pairs = [(loaded[0], loaded[1])]
    else:
        parser.error("give OLD and NEW, or --history FILE")
    breaking = [change for old, new in pairs for change in compare(old, new) if change.breaking]
    for change in breaking:
        print(change)
    print(f"{len(pairs)} change(s) checked, {len(breaking)} breaking")
    return 1 if breaking else 0
