"""The convergence benchmark (issue 15) runs end to end on a small case and reports its gap."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_convergence

        yield bench_convergence
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_cases_are_fixed_by_their_seed(bench):
    from convergence_cases import CASES, make_case

    for name in CASES:
        a, b = make_case(name, 300), make_case(name, 300)
        assert a.shape == (300, 10) and np.array_equal(a, b)


def test_a_small_run_writes_a_row_and_caches_its_reference(bench, tmp_path, capsys):
    cache, rows = tmp_path / "refs.jsonl", tmp_path / "rows.jsonl"
    argv = ["--n", "2000", "--cases", "blobs-std1", "--cov", "diag", "--ref-max-iter", "50"]
    bench.main([*argv, "--reference-cache", str(cache), "--jsonl", str(rows)])
    out = capsys.readouterr().out
    assert "| blobs-std1 | diag |" in out
    (rec,) = [json.loads(line) for line in rows.read_text().splitlines()]
    assert rec["emix_monotone"] and rec["ref_ll"] >= rec["emix_ll"] - 1e-12
    bench.main([*argv, "--reference-cache", str(cache)])
    assert len(cache.read_text().splitlines()) == 1  # the second run read the cached reference
