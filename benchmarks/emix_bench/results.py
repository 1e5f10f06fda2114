"""The JSON-lines result files of ``--jsonl``: one record a line, its ``kind`` first.

Kinds: ``machine`` (description, rates, bandwidth, load at the start), ``iter`` (a per-iteration
row), ``optimum`` (a time-to-optimum row), ``overhead`` (a fit-overhead row), ``end`` (the load
at the end).
"""

from __future__ import annotations

import json
from pathlib import Path


def dump(path, kind, row) -> None:
    """Append one result to a JSON-lines file (``--jsonl``), so that a cut-off run keeps its rows."""
    if path is None:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"kind": kind, **row}, default=float) + "\n")


def read(paths) -> list[dict]:
    """The records of the given files, in order."""
    return [json.loads(line) for p in paths for line in Path(p).read_text().splitlines() if line.strip()]


def of_kind(records, kind) -> list[dict]:
    return [r for r in records if r["kind"] == kind]
