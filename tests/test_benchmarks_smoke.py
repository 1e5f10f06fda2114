"""The benchmark package (``benchmarks/emix_bench``) imports, renders its committed results, and
its hooks still reach emix's engine; nothing is timed here."""

from __future__ import annotations

import re
import shlex
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from emix import _kernels

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

from emix_bench import cli, report, results  # noqa: E402


def _table(text: str, heading: str) -> list[str]:
    """The body rows of the first Markdown table after ``heading``."""
    lines = text.split(heading, 1)[1].splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    block = []
    for ln in lines[first:]:
        if not ln.startswith("|"):
            break
        block.append(ln)
    return block[2:]  # less the header and the |---| rule


def test_render_committed_run_e(capsys):
    paths = [str(RESULTS / "run_e_rows.jsonl"), str(RESULTS / "run_e_opt.jsonl")]
    recs = results.read(paths)
    assert report.render(paths, None) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Benchmarks: emix against scikit-learn\n")
    assert "run 1: load average" in text and "run 2: load average" in text
    n_iter = len(results.of_kind(recs, "iter"))
    n_opt = len(results.of_kind(recs, "optimum"))
    assert n_iter == 32 and n_opt == 3
    assert len(_table(text, "## Per iteration")) == n_iter
    assert len(_table(text, "## Time to the optimum\n")) == n_opt
    assert len(_table(text, "### Time to the optimum: three measures")) == n_opt
    assert len(_table(text, "## Fit overhead outside the iterations")) == 1
    assert not re.search(r"\bnan\b", text)
    assert text.rstrip().endswith("![per-iteration speed-up](bench_em.png)")


@pytest.mark.parametrize("name", sorted(p.name for p in RESULTS.glob("*.jsonl")))
def test_render_each_committed_file(name):
    recs = results.read([str(RESULTS / name)])
    text, rows = report.from_records(recs)
    assert rows == results.of_kind(recs, "iter")
    for r in rows:
        assert f"| {r['case']} | {r['cov']} | {r['dtype']} |" in text


def test_render_writes_report_and_picture(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    paths = [str(RESULTS / "run_e_rows.jsonl"), str(RESULTS / "run_e_opt.jsonl")]
    report.render(paths, None)
    printed = capsys.readouterr().out
    assert report.render(paths, str(tmp_path / "docs")) == 0
    assert (tmp_path / "docs" / "benchmarks.md").read_text() + "\n" == printed
    assert (tmp_path / "docs" / "bench_em.png").stat().st_size > 0


def _documented_command_lines():
    """Argument lists of every ``benchmarks/bench_em.py`` command line in the docs and the script."""
    sources = [
        ROOT / "docs" / "benchmarks.md",
        ROOT / "docs" / "speed.md",
        BENCHMARKS / "bench_em.py",
        ROOT / "Makefile",
    ]
    found = []
    for src in sources:
        for m in re.finditer(r"benchmarks/bench_em\.py([^`\n#)]*)", src.read_text()):
            found.append((src.name, shlex.split(m.group(1))))
    return found


def test_documented_command_lines_parse():
    found = _documented_command_lines()
    assert len(found) >= 10
    parser = cli.build_parser()
    for src, argv in found:
        try:
            parser.parse_args(argv)
        except SystemExit:  # pragma: no cover - argparse reports the bad option on stderr
            pytest.fail(f"{src}: bench_em.py {' '.join(argv)} no longer parses")


def test_cli_description_is_the_script_docstring():
    text = (BENCHMARKS / "bench_em.py").read_text()
    first = text.split('"""', 2)[1].splitlines()[0]
    assert first == cli.DESCRIPTION


def test_hooks_reach_the_engine():
    """The per-iteration clock ticks once per emix / scikit-learn M-step; the first-hit hooks fire."""
    pytest.importorskip("sklearn")
    pytest.importorskip("threadpoolctl")
    from emix_bench import cases, optimum, timing

    X, centres = cases.make_data(300, 2, 2, np.float64)
    init = cases.start_params(X, centres, 2, "full")
    # the hooks sit in the driver whichever kernels run; the NumPy ones spare loading numba's
    with warnings.catch_warnings(), _kernels.use_numba(False):
        warnings.simplefilter("ignore")
        for run in (timing.run_emix, timing.run_sklearn):
            clock = timing.MStepClock()
            run(X, "full", init, 3, clock)
            assert len(clock.stamps) == 3, run.__name__
        assert optimum._first_hit_emix(X, 2, "full", init, lambda ll: True)[1] == 1
        assert optimum._first_hit_sklearn(X, 2, "full", init, lambda ll: True)[1] == 1


def test_bench_init_runs(capsys):
    """``benchmarks/bench_init.py`` runs both libraries' starts and prints one row per case and
    start (on a few rows: nothing is timed here)."""
    pytest.importorskip("sklearn")
    import bench_init

    bench_init.main(["--quick", "--reps", "1", "--rows", "600"])
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| 0k")]
    assert len(rows) == len(bench_init.QUICK) * len(bench_init.INITS)
    assert all(ln.rstrip().endswith("x |") for ln in rows)


def test_bench_axis_kernels_runs(capsys):
    """``benchmarks/bench_axis_kernels.py`` runs the loops and the BLAS path of the diagonal and
    spherical kernels and prints one row per case and dtype, the two paths agreeing (on a few
    rows: nothing is timed here)."""
    pytest.importorskip("numba")
    import bench_axis_kernels

    bench_axis_kernels.main(["--quick", "--reps", "1", "--rows", "700"])
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert len(rows) == 2 * len(bench_axis_kernels.QUICK)
    assert all(float(ln.rstrip(" |").split("|")[-1]) < 1e-4 for ln in rows)


def test_bench_pass_cpu_runs(capsys):
    """``benchmarks/bench_pass_cpu.py`` times the diag and full passes of every case (on a few
    rows: nothing is checked of the times)."""
    pytest.importorskip("numba")
    import bench_pass_cpu

    bench_pass_cpu.main(["--rows", "500", "--reps", "1"])
    line = capsys.readouterr().out.strip()
    assert line.count("diag ") == line.count("full ") == len(bench_pass_cpu.CASES)
