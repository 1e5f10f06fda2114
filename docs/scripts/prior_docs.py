"""Print the numbers of docs/bayesian.md's section "MAP with mclust's priors".

Run from the repository root: ``python docs/scripts/prior_docs.py``. R is not
needed: mclust's numbers are read from ``tests/reference/mclust/prior_bic.csv``
(written by ``make_prior.R``).
"""

import csv
import warnings
from pathlib import Path

import numpy as np

import emix

ROOT = Path(__file__).resolve().parents[2]
ROWS = list(csv.DictReader(open(ROOT / "tests" / "reference" / "mclust" / "prior_bic.csv", newline="")))


def section(title):
    print(f"\n## {title}\n")


def compare(dataset, X, tol="1e-05", ks=None):
    """emix.select(X, prior='default') beside mclustBIC(X, prior = priorControl())."""
    rows = [r for r in ROWS if (r["dataset"], r["prior"], r["tol"]) == (dataset, "default", tol)]
    models = list(dict.fromkeys(r["model"] for r in rows))
    ks = ks or sorted({int(r["G"]) for r in rows})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = emix.select(X, ks, models=models, prior="default", tol=float(tol), n_jobs=1)
    records = {(r.model, r.n_components): r for r in result.records}
    print("| model | G | mclust BIC | emix BIC | relative difference |")
    print("|---|---|---|---|---|")
    rel = []
    for r in rows:
        if int(r["G"]) not in ks:
            continue
        ref, got = float(r["bic"]) if r["bic"] != "NA" else np.nan, records[r["model"], int(r["G"])].bic
        diff = abs(got - ref) / abs(ref) if np.isfinite(ref) and np.isfinite(got) else np.nan
        if np.isfinite(diff):
            rel.append(diff)
        print(f"| {r['model']} | {r['G']} | {ref:.3f} | {got:.3f} | {diff:.1e} |")
    print(
        f"\nbest: {result.best_model},{result.best_n_components}; largest relative difference {max(rel):.1e}"
    )
    return rel


section("Old Faithful, mclust's default tolerance, G = 2 and 3")
compare("faithful", emix.datasets.load_faithful(), ks=[2, 3])

section("every cell of the tables, both tolerances")
for dataset, loader in [("faithful", emix.datasets.load_faithful), ("iris", emix.datasets.load_iris),
                        ("galaxies", emix.datasets.load_galaxies)]:  # fmt: skip
    for tol in ("1e-05", "1e-10"):
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            rel = compare(dataset, loader(), tol)
        rel = np.array(rel)
        print(f"{dataset:9s} tol={tol}: {rel.size} cells, median {np.median(rel):.1e}, max {rel.max():.1e}")

section("one MAP fit: the objective, the likelihood, the prior")
X = emix.datasets.load_faithful()
gm = emix.GaussianMixture(2, covariance_type="VVV", prior="default", reg_covar=0, random_state=0).fit(X)
ml = emix.GaussianMixture(2, covariance_type="VVV", reg_covar=0, random_state=0).fit(X)
print(
    f"MAP: log_likelihood_ {gm.log_likelihood_:.4f}  history_[-1] (log L + log prior) {gm.history_[-1]:.4f}"
)
print(f"ML:  log_likelihood_ {ml.log_likelihood_:.4f}")
print("MAP objective never decreases:", bool(np.all(np.diff(gm.history_) >= 0)))
print(f"-bic(X) {-gm.bic(X):.3f} (mclustBIC: -2322.686)")
print("covariances_[k] diagonals, MAP:", np.round(np.diagonal(gm.covariances_, axis1=1, axis2=2), 4).tolist())
print("covariances_[k] diagonals, ML: ", np.round(np.diagonal(ml.covariances_, axis1=1, axis2=2), 4).tolist())
