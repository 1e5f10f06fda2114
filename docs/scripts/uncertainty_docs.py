"""Print the numbers and draw the pictures of docs/bayesian.md and docs/uncertainty.md.

Run from the repository root: ``python docs/scripts/uncertainty_docs.py``
(scikit-learn is needed for the comparisons; R is not: mclust's numbers are
read from tests/reference/mclust/).
"""

import csv
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.mixture import BayesianGaussianMixture as SklearnBGM

import emix
from emix.engine import m_step, run_em, stats_from_responsibilities
from emix.families.gaussian.variational import VariationalGaussianFamily
from emix.sources import ArraySource
from emix.teach.plot import plot_intervals, plot_posterior_weights, save_figure

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference" / "mclust"
IMAGES = ROOT / "docs" / "images"
X = emix.datasets.load_faithful()
NAMES = ["eruptions", "waiting"]


def section(title):
    print(f"\n## {title}\n")


section("BayesianGaussianMixture on Old Faithful, K = 8")
bgm = emix.BayesianGaussianMixture(8, random_state=0, max_iter=1000).fit(X)
print("weights_", np.round(bgm.weights_, 4))
print("components above 1%:", int((bgm.weights_ > 0.01).sum()))
print(f"lower_bound_ {bgm.lower_bound_:.6f}  elbo_ {bgm.elbo_:.6f}  n_iter_ {bgm.n_iter_}")
print("ELBO increments, smallest:", f"{np.diff(bgm.history_).min():.3e}")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    sk = SklearnBGM(n_components=8, random_state=0, max_iter=1000, tol=1e-8).fit(X)
print("sklearn weights_", np.round(sk.weights_, 4), f"lower_bound_ {float(np.squeeze(sk.lower_bound_)):.6f}")
save_figure(plot_posterior_weights(bgm), IMAGES / "bayes-weights.png")
dd = emix.BayesianGaussianMixture(8, weight_concentration_prior_type="dirichlet_distribution", random_state=0,
                                  max_iter=1000).fit(X)  # fmt: skip
print("dirichlet_distribution weights_", np.round(dd.weights_, 4))

section("From the same responsibilities as scikit-learn: largest differences after 30 iterations")


class SklearnFrom(SklearnBGM):
    def __init__(self, resp=None, **kw):
        super().__init__(**kw)
        self.resp = resp

    def _initialize_parameters(self, X, random_state, xp=None):
        self._initialize(X, self.resp)


resp = np.random.default_rng(0).dirichlet(np.ones(5), size=len(X))
print("| covariance | prior | weights | means | covariances |")
print("|---|---|---|---|---|")
for cov in ("full", "tied", "diag", "spherical"):
    for prior in ("dirichlet_process", "dirichlet_distribution"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = SklearnFrom(resp=resp, n_components=5, covariance_type=cov, weight_concentration_prior_type=prior,
                            max_iter=30)  # fmt: skip
            s.tol = 0.0
            s.fit(X)
        fam = VariationalGaussianFamily(cov, 1e-6, prior)
        src = ArraySource(X, None, 128)
        st = stats_from_responsibilities(src, fam, lambda Xc, o: resp[o : o + len(Xc)], X[:5])
        p = run_em(src, fam, m_step(fam, st, None), max_iter=30, tol=0.0, strict=False).params
        rel = [
            np.abs(a - b).max() / np.abs(b).max()
            for a, b in [
                (p.weights, s.weights_),
                (p.components.means, s.means_),
                (p.components.covariances, s.covariances_),
            ]
        ]
        print(f"| {cov} | {prior} | " + " | ".join(f"{v:.1e}" for v in rel) + " |")

section("equal_weights=True against mclust's equalPro (from mclust's start)")
sys.path.insert(0, str(ROOT / "tests"))
import test_equal_weights as tew  # noqa: E402
from mclust_reference import load  # noqa: E402

print("| data | model | G | mclust loglik | emix loglik | df | mclust BIC | emix BIC |")
print("|---|---|---|---|---|---|---|---|")
for row in tew.EQUALPRO:
    ref = load(row["dataset"])
    k, model = int(row["G"]), row["model"]
    c = tew._mclust_start(ref.X, np.asarray(ref.starts[k]) - 1, model, k)
    prec = tew.GaussianFamily(model, 0.0).model.precisions(c.precisions_cholesky)
    g = emix.GaussianMixture(k, covariance_type=model, equal_weights=True, reg_covar=0.0, rtol=1e-12, max_iter=5000,
                             means_init=c.means, precisions_init=prec, weights_init=np.full(k, 1 / k),
                             accelerate=False).fit(ref.X)  # fmt: skip
    print(f"| {row['dataset']} | {model} | {k} | {float(row['loglik']):.4f} | {g.log_likelihood_:.4f} | "
          f"{g._n_parameters()} | {float(row['bic']):.3f} | {-g.bic(ref.X):.3f} |")  # fmt: skip

section("bootstrap of Old Faithful EEE, K = 3")
g = emix.GaussianMixture(3, covariance_type="EEE", init_params="hierarchical", reg_covar=0.0, tol=1e-12,
                         max_iter=10000).fit(X)  # fmt: skip
result = emix.bootstrap(g, X, n_boot=999, random_state=0, feature_names=NAMES)
print(result)
save_figure(plot_intervals(result), IMAGES / "bootstrap-intervals.png")

section("standard errors against MclustBootstrap (4999 replicates; emix 2000)")
rows = list(csv.DictReader(open(REF / "bootstrap.csv", newline="")))
ref_means = np.array([[float(r["estimate"]) for r in rows if r["type"] == "bs" and r["param"] == "mean"
                       and r["k"] == k] for k in "123"])  # fmt: skip
_, order = linear_sum_assignment(((ref_means[:, None] - g.means_[None]) ** 2).sum(-1))
tol = 1e-5 * (1 + abs(g.log_likelihood_)) / len(X)
mclust_rule = emix.GaussianMixture(
    **{**g.get_params(), "convergence": "sklearn", "tol": tol, "accelerate": False}
)
for attr in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_", "n_features_in_",
             "converged_", "n_iter_"):  # fmt: skip
    setattr(mclust_rule, attr, getattr(g, attr))
print("| mclust type | emix kind | emix replicates stop | pro 1 | pro 2 | pro 3 | mean 1 waiting | mean 3 eruptions |"
      " var eruptions | cov |")  # fmt: skip
print("|---|---|---|---|---|---|---|---|---|---|")
for t, kind in (("bs", "nonparametric"), ("wlbs", "weighted"), ("pb", "parametric")):
    for label, model in (("converged", g), ("mclust's rule", mclust_rule)):
        r = emix.bootstrap(model, X, n_boot=2000, kind=kind, random_state=1)
        mine = {}
        for row in rows:
            if row["type"] != t:
                continue
            k = order[int(row["k"]) - 1]
            if row["param"] == "pro":
                mine[("pro", row["k"])] = (r.se["weights"][k], float(row["se"]))
            elif row["param"] == "mean":
                mine[("mean", row["k"], row["i"])] = (r.se["means"][k, int(row["i"]) - 1], float(row["se"]))
            elif row["k"] == "1":
                i, j = int(row["i"]) - 1, int(row["j"]) - 1
                mine[("var", row["i"], row["j"])] = (r.se["covariances"][k, i, j], float(row["se"]))
        cells = [mine[("pro", "1")], mine[("pro", "2")], mine[("pro", "3")], mine[("mean", "1", "2")],
                 mine[("mean", "3", "1")], mine[("var", "1", "1")], mine[("var", "1", "2")]]  # fmt: skip
        print(f"| {t} | {kind} | {label} | " + " | ".join(f"{a:.4g} / {b:.4g}" for a, b in cells) + " |")
