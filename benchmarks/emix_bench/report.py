"""The report: the Markdown tables, the per-iteration picture, the progress lines of a run.

Nothing here imports scikit-learn; matplotlib only for the picture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import results


def fmt_t(t):
    return "-" if t is None else (f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s")


def _bold_ratio(x):
    return "-" if x is None else f"**{x:.1f}**"


def _header(machine, rates, bw, quick) -> list[str]:
    return [
        "# Benchmarks: emix against scikit-learn",
        "",
        "Produced by `benchmarks/bench_em.py" + (" --quick" if quick else "") + "`; "
        "see its docstring for the method.",
        "",
        f"**Machine**: {machine}.  ",
        f"Measured: matrix multiply {rates['float64'] / 1e9:.1f} GFLOP/s float64, "
        f"{rates['float32'] / 1e9:.1f} GFLOP/s float32 (all cores); read bandwidth {bw / 1e9:.1f} GB/s"
        + (
            f"; exponentials {rates['exp'] / 1e9:.2f} G/s ({_exp_source(rates)} on one core x the cores; the "
            "bound counts n (K + 1) of them per iteration beside the GEMM-shaped FLOPs)."
            if "exp" in rates
            else "."
        ),
        "",
    ]


def _exp_source(rates) -> str:
    """Whose exponential the bound's rate is: the faster of NumPy's and emix's where both were
    measured (runs before emix's was measured have NumPy's alone)."""
    if "exp_emix" not in rates:
        return "NumPy's exp"
    return f"the faster of NumPy's exp, {rates['exp_numpy'] / 1e9:.2f}, and emix's, {rates['exp_emix'] / 1e9:.2f},"


def _iteration_table(rows) -> list[str]:
    out = [
        "## Per iteration (same start, same iterations, tol=0)",
        "",
        "`ratio` = scikit-learn time / emix time. `bound` = roofline bound of one iteration; "
        "`x bound` = emix's time over it. Memory: tracemalloc peak during `fit` beyond the data.",
        "",
        "| case | cov | dtype | sklearn / iter | emix / iter | ratio | fit ratio | bound | x bound "
        "| sklearn MiB | emix MiB | data MiB | rel. diff logL |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['case']} | {r['cov']} | {r['dtype']} | {fmt_t(r['sk_iter'])} | {fmt_t(r['em_iter'])} "
            f"| **{r['iter_ratio']:.1f}** | {r['fit_ratio']:.1f} | {fmt_t(r['bound'])} | {r['bound_ratio']:.1f} "
            f"| {r['sk_mem']:.0f} | {r['em_mem']:.1f} | {r['data_mem']:.0f} | {r['rel_ll']:.1e} |"
        )
    return out


def _optimum_table(opt_rows) -> list[str]:
    out = [
        "",
        "## Time to the optimum",
        "",
        "Optimum: scikit-learn with tol=1e-12 from the same start. emix: defaults (Aitken rule, "
        "SQUAREM). scikit-learn: the largest tol in 1e-3, 1e-4, ... that reaches 1e-6 relative of "
        "the optimum (an oracle choice in its favour); its default tol=1e-3 result is shown too. "
        "Issue 15's own measure is scikit-learn with tol=1e-10 (last columns).",
        "",
        "| data | cov | optimum | emix logL | emix passes (extrapolated) | emix time | sklearn default "
        "logL (iters) | sklearn tol | sklearn iters | sklearn time | ratio | sklearn tol=1e-10 "
        "iters | time | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in opt_rows:
        ratio = "-" if r["ratio"] is None else f"**{r['ratio']:.1f}**"
        reached = "" if r.get("sk10_ok", True) else " (not reached)"
        out.append(
            f"| {r['name']} | {r['cov']} | {r['opt']:.6f} | {r['em_ll']:.6f}{'' if r['em_ok'] else ' (not reached)'} "
            f"| {r['em_iter']} ({r['em_acc']}) | {fmt_t(r['em_time'])} "
            f"| {r['sk_default_ll']:.4f} ({r['sk_default_iter']}) | {r['sk_tol']} | {r['sk_iter']} "
            f"| {fmt_t(r['sk_time'])} | {ratio} | {r.get('sk10_iter', '-')}{reached} "
            f"| {fmt_t(r['sk10_time']) if 'sk10_time' in r else '-'} | {_bold_ratio(r.get('ratio_1e10'))} |"
        )
    return out


def _three_measures_table(opt_rows) -> list[str]:
    out = [
        "",
        "### Time to the optimum: three measures",
        "",
        "**first hit**: each library from the same start with a very tight tolerance (emix "
        "`rtol=1e-12`, defaults otherwise; scikit-learn `tol=1e-12`); the wall time from the call of "
        "`fit` to the end of the first pass (emix) / E-step (scikit-learn) whose log-likelihood is "
        "within 1e-6 relative of the optimum, independent of any stopping rule. **both oracle**: "
        "each library with the largest tolerance in 1e-3, 1e-4, ... that still ends within 1e-6 "
        "(emix `rtol`, scikit-learn `tol`), whole `fit`. **own rule vs oracle**: the table above "
        "(emix default `rtol=1e-8`, scikit-learn oracle `tol`). Times: best of the repeats.",
        "",
        "| data | cov | start: rel. gap | first hit emix (passes) | first hit sklearn (E-steps) | ratio | emix oracle rtol "
        "(passes) | emix oracle time | sklearn oracle tol | sklearn oracle time | ratio | own rule vs oracle ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in opt_rows:
        out.append(
            f"| {r['name']} | {r['cov']} | {r['start_gap']:.1e} | {fmt_t(r['em_hit_time'])} ({r['em_hit_passes']}) "
            f"| {fmt_t(r['sk_hit_time'])} ({r['sk_hit_iters']}) | {_bold_ratio(r['hit_ratio'])} "
            f"| {r['em_or_rtol']} ({r['em_or_passes']}) | {fmt_t(r['em_or_time'])} | {r['sk_tol']} "
            f"| {fmt_t(r['sk_time'])} | {_bold_ratio(r['oracle_ratio'])} | {_bold_ratio(r['ratio'])} |"
        )
    return out


def _overhead_table(overhead) -> list[str]:
    if not overhead:
        return []
    out = [
        "",
        "## Fit overhead outside the iterations",
        "",
        "emix `fit(max_iter=0)` with the default k-means init (validation, k-means++, Lloyd, "
        "first M-step, final pass) against scikit-learn's `fit(max_iter=1)` (the same plus one "
        "iteration).",
        "",
        "| case | emix overhead | sklearn fit with 1 iteration |",
        "|---|---|---|",
    ]
    for o in overhead:
        out.append(f"| {o['case']} | {fmt_t(o['em_overhead'])} | {fmt_t(o['sk_fit1'])} |")
    return out


def _fixed_table(fixed) -> list[str]:
    if not fixed:
        return []
    out = [
        "",
        "## Fixed cost of a fit (same start as the per-iteration rows, `max_iter=0`)",
        "",
        "The parts of emix's `fit` outside the iterations: validation and preparation (`_prepare_fit`), "
        "the start (`_start`), the final pass (`run_em` with no iteration: pool and one pass), the fitted "
        "attributes (`_set_fitted`); scikit-learn's fixed cost is `fit(1) - (fit(3) - fit(1)) / 2`.",
        "",
        "| case | cov | validation | start | final pass | attributes | emix fit(0) | sklearn fixed | sklearn / iter |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in fixed:
        out.append(
            f"| {f['case']} | {f['cov']} | {fmt_t(f['validation'])} | {fmt_t(f['start'])} | "
            f"{fmt_t(f['final_pass'])} | {fmt_t(f['attributes'])} | {fmt_t(f['total'])} | "
            f"{fmt_t(f['sk_fixed'])} | {fmt_t(f['sk_iter'])} |"
        )
    return out


def markdown(machine, rates, bw, rows, opt_rows, overhead, quick, fixed=()) -> str:
    out = _header(machine, rates, bw, quick)
    out += _iteration_table(rows)
    out += _optimum_table(opt_rows)
    out += _three_measures_table(opt_rows)
    out += _overhead_table(overhead)
    out += _fixed_table(fixed)
    out.append("")
    out.append("![per-iteration speed-up](bench_em.png)")
    out.append("")
    return "\n".join(out)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.5))
    labels = [f"{r['case']}\n{r['cov']}" for r in rows if r["dtype"] == "float64"]
    x = np.arange(len(labels))
    for off, dt, colour in ((-0.2, "float64", "tab:blue"), (0.2, "float32", "tab:orange")):
        vals = [r["iter_ratio"] for r in rows if r["dtype"] == dt]
        ax.bar(x[: len(vals)] + off, vals, width=0.4, label=dt, color=colour)
    ax.axhline(5, color="tab:blue", ls="--", lw=1, label="target float64 (5x)")
    ax.axhline(8, color="tab:orange", ls="--", lw=1, label="target float32 (8x)")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=7, rotation=60, ha="right")
    ax.set_ylabel("scikit-learn time / emix time, per iteration")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(out_dir, text, rows) -> Path:
    """``benchmarks.md`` and ``bench_em.png`` in ``out_dir`` (made if missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "benchmarks.md"
    # keep the block that benchmarks/bench_select.py writes (the model-selection timings)
    old = path.read_text() if path.exists() else ""
    start, end = "<!-- bench_select -->", "<!-- /bench_select -->"
    if start in old and end in old:
        text = text.rstrip("\n") + "\n\n" + start + old.split(start, 1)[1].split(end, 1)[0] + end + "\n"
    path.write_text(text)
    plot(rows, out / "bench_em.png")
    return out


def from_records(recs) -> tuple[str, list[dict]]:
    """The report text of the records of earlier runs, and their per-iteration rows."""
    machines = results.of_kind(recs, "machine")
    ends = results.of_kind(recs, "end")
    m = machines[0]
    rows = results.of_kind(recs, "iter")
    opt_rows = results.of_kind(recs, "optimum")
    overhead = results.of_kind(recs, "overhead")
    fixed = results.of_kind(recs, "fixed")
    loads = "; ".join(
        f"run {i + 1}: load average {a['load']:.1f} at the start, {b['load']:.1f} at the end"
        for i, (a, b) in enumerate(zip(machines, ends))
    )
    text = markdown(
        m["machine"] + f"; {loads}", m["rates"], m["bandwidth"], rows, opt_rows, overhead, False, fixed
    )
    return text, rows


def render(paths, out_dir) -> int:
    """Report from ``--jsonl`` files (e.g. the per-iteration run and a separate time-to-optimum run)."""
    text, rows = from_records(results.read(paths))
    if out_dir:
        write(out_dir, text, rows)
    else:
        print(text)
    return 0


# -- progress lines of a run ---------------------------------------------------------------
def iter_line(r) -> str:
    return (
        f"{r['case']:>18} {r['cov']:>9} {r['dtype']}: sklearn {fmt_t(r['sk_iter'])}, emix "
        f"{fmt_t(r['em_iter'])}, ratio {r['iter_ratio']:.1f}, {r['bound_ratio']:.1f}x bound, "
        f"mem {r['sk_mem']:.0f} / {r['em_mem']:.1f} MiB, rel logL {r['rel_ll']:.1e}"
    )


def optimum_line(r) -> str:
    return (
        f"optimum {r['name']} {r['cov']}: emix {fmt_t(r['em_time'])} ({r['em_iter']} passes, ok={r['em_ok']}), "
        f"sklearn tol={r['sk_tol']} {fmt_t(r['sk_time'])}, ratio {r['ratio']}; first hit emix "
        f"{fmt_t(r['em_hit_time'])} ({r['em_hit_passes']}), sklearn {fmt_t(r['sk_hit_time'])} "
        f"({r['sk_hit_iters']}), ratio {r['hit_ratio']}; oracle emix rtol={r['em_or_rtol']} "
        f"{fmt_t(r['em_or_time'])} ({r['em_or_passes']}), ratio {r['oracle_ratio']}"
    )


def overhead_line(o) -> str:
    return (
        f"overhead {o['case']}: emix {fmt_t(o['em_overhead'])}, sklearn fit(max_iter=1) {fmt_t(o['sk_fit1'])}"
    )


def fixed_line(f) -> str:
    return (
        f"fixed cost {f['case']} {f['cov']}: validation {fmt_t(f['validation'])}, start {fmt_t(f['start'])}, "
        f"final pass {fmt_t(f['final_pass'])}, attributes {fmt_t(f['attributes'])}, fit(0) {fmt_t(f['total'])}; "
        f"sklearn fixed {fmt_t(f['sk_fixed'])}, per iteration {fmt_t(f['sk_iter'])}"
    )
