"""emix.bootstrap: label matching, determinism, the three kinds, and mclust's MclustBootstrap."""

import csv

import numpy as np
import pytest
from helpers import make_blobs
from mclust_reference import REFERENCE_DIR
from scipy.optimize import linear_sum_assignment

import emix
from emix.exceptions import InvalidInputError, InvalidParameterError
from emix.uncertainty.bootstrap import align

BOOT = list(csv.DictReader(open(REFERENCE_DIR / "bootstrap.csv", newline="")))


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(300, d=2, k=3, sep=8, seed=1)
    return X, emix.GaussianMixture(3, random_state=0).fit(X)


def test_result_shapes_table_and_repr(blobs):
    X, g = blobs
    r = emix.bootstrap(g, X, n_boot=20, random_state=0, feature_names=["a", "b"])
    assert r.replicates["weights"].shape == (20, 3)
    assert r.replicates["means"].shape == (20, 3, 2)
    assert r.replicates["covariances"].shape == (20, 3, 2, 2)
    assert r.n_failed == 0 and r.n_replicates == 20
    np.testing.assert_allclose(r.se["means"], r.replicates["means"].std(axis=0, ddof=1))
    np.testing.assert_allclose(r.lower["weights"], np.quantile(r.replicates["weights"], 0.025, axis=0))
    assert len(r.rows()) == 3 + 6 + 9  # weights, means, the upper triangles of the covariances
    text = repr(r)
    assert "kind='nonparametric'" in text and "mean[1, b]" in text and "cov[2, a, b]" in text
    assert "95% lower" in r.table()
    assert list(r.to_frame().columns) == ["parameter", "component", "estimate", "se", "lower", "upper"]


def test_replicates_do_not_depend_on_n_jobs(blobs):
    X, g = blobs
    a = emix.bootstrap(g, X, n_boot=12, random_state=3, n_jobs=1)
    b = emix.bootstrap(g, X, n_boot=12, random_state=3, n_jobs=3)
    for name in a.replicates:
        np.testing.assert_array_equal(a.replicates[name], b.replicates[name])


def test_label_switching_is_resolved(blobs):
    X, g = blobs
    ref = {"weights": g.weights_, "means": g.means_, "covariances": g.covariances_}
    perm = np.array([2, 0, 1])
    shuffled = {k: v[perm] for k, v in ref.items()}
    back = align(shuffled, ref, X.std(axis=0))
    for name in ref:
        np.testing.assert_array_equal(back[name], ref[name])
    r = emix.bootstrap(g, X, n_boot=30, random_state=1)
    # separated blobs: every replicate's means stay next to the reference's
    assert np.abs(r.replicates["means"] - g.means_).max() < 1.0


@pytest.mark.parametrize("kind", ["nonparametric", "parametric", "weighted"])
def test_kinds_cover_the_estimate(blobs, kind):
    X, g = blobs
    r = emix.bootstrap(g, X, n_boot=60, kind=kind, random_state=2)
    assert r.kind == kind
    assert np.all(r.lower["means"] <= g.means_ + 1e-12) and np.all(g.means_ <= r.upper["means"] + 1e-12)
    assert np.all(r.se["weights"] > 0)


# the Poisson fit of unstructured counts reaches max_iter; the test is about bootstrap
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_other_estimators(blobs):
    X, _ = blobs
    eq = emix.GaussianMixture(3, equal_weights=True, covariance_type="tied", random_state=0).fit(X)
    r = emix.bootstrap(eq, X, n_boot=10, random_state=0)
    np.testing.assert_allclose(r.se["weights"], 0.0, atol=1e-15)
    np.testing.assert_array_equal(r.replicates["covariances"][:, 0], r.replicates["covariances"][:, 1])
    bgm = emix.BayesianGaussianMixture(3, random_state=0).fit(X)
    assert emix.bootstrap(bgm, X, n_boot=10, random_state=0).n_replicates == 10
    counts = np.random.default_rng(0).poisson([[2.0, 9.0]], (200, 2)).astype(float)
    p = emix.PoissonMixture(2, random_state=0).fit(counts)
    rp = emix.bootstrap(p, counts, n_boot=10, kind="parametric", random_state=0)
    assert set(rp.estimate) == {"weights", "rates"}
    assert rp.replicates["rates"].shape == (10, 2, 2)


def test_errors_are_named(blobs):
    X, g = blobs
    with pytest.raises(InvalidParameterError, match="kind must be one of"):
        emix.bootstrap(g, X, kind="jackknife")
    with pytest.raises(InvalidParameterError, match="n_boot"):
        emix.bootstrap(g, X, n_boot=1)
    with pytest.raises(InvalidParameterError, match="conf_level must lie strictly between 0 and 1"):
        emix.bootstrap(g, X, conf_level=1.0)
    with pytest.raises(emix.NotFittedError, match="bootstrap needs a fitted model"):
        emix.bootstrap(emix.GaussianMixture(2), X)
    with pytest.raises(InvalidInputError, match="not a source"):
        emix.bootstrap(g, emix.ArraySource(X, None, 100))
    with pytest.raises(InvalidInputError, match="features"):
        emix.bootstrap(g, X[:, :1])


# ------------------------------------------------------------ against mclust


def _mclust_rows(kind):
    return [r for r in BOOT if r["type"] == kind]


def _mclust_model(stop_like_mclust, from_mclust_estimate=False):
    """Old Faithful EEE, 3; replicates refitted to convergence, or stopped by mclust's rule."""
    X = emix.datasets.load_faithful()
    g = emix.GaussianMixture(
        3, covariance_type="EEE", init_params="hierarchical", reg_covar=0.0, tol=1e-12, max_iter=10000
    ).fit(X)
    if stop_like_mclust:  # emControl()'s tol: a relative change of the log-likelihood below 1e-5
        tol = 1e-5 * (1 + abs(g.log_likelihood_)) / len(X)
        g.set_params(convergence="sklearn", tol=tol, accelerate=False)
    if from_mclust_estimate:  # the parametric bootstrap draws from the model: use mclust's fit
        rows = _mclust_rows("pb")
        w = np.array([float(r["estimate"]) for r in rows if r["param"] == "pro"])
        m = np.array(
            [[float(r["estimate"]) for r in rows if r["param"] == "mean" and r["k"] == k] for k in "123"]
        )
        c = np.array([float(r["estimate"]) for r in rows if r["param"] == "variance" and r["k"] == "1"])
        start = dict(weights_init=w, means_init=m, precisions_init=np.linalg.inv(c.reshape(2, 2)))
        g = emix.GaussianMixture(**{**g.get_params(), **start, "max_iter": 0}).fit(X)
        g.set_params(max_iter=10000)
    return X, g


def _se_of(result, row, order):
    k = order[int(row["k"]) - 1]
    if row["param"] == "pro":
        return result.se["weights"][k], result.replicates["weights"][:, k]
    i = int(row["i"]) - 1
    if row["param"] == "mean":
        return result.se["means"][k, i], result.replicates["means"][:, k, i]
    j = int(row["j"]) - 1
    return result.se["covariances"][k, i, j], result.replicates["covariances"][:, k, i, j]


def _excess_kurtosis(v):
    c = v - v.mean()
    return float(np.mean(c**4) / np.mean(c**2) ** 2 - 3.0)


@pytest.mark.parametrize(
    "mclust_type,kind,stop_like_mclust",
    [("wlbs", "weighted", False), ("bs", "nonparametric", True), ("pb", "parametric", True)],
)
def test_standard_errors_agree_with_mclust_bootstrap(mclust_type, kind, stop_like_mclust):
    """Old Faithful EEE,3: emix's standard errors are MclustBootstrap's within Monte-Carlo error.

    mclust's "bs" and "pb" replicates stop at emControl()'s relative tolerance 1e-5, which on this
    model (two overlapping components on a slow ridge) stops them close to their start: their
    standard errors of those components are about 15% smaller than those of replicates run to
    convergence. Those two are compared with replicates stopped by the same rule; mclust's "wlbs"
    (me.weighted stops at an absolute change of 1e-5) runs to convergence, like emix's default.

    The tolerance: the standard deviation s of B replicates has relative Monte-Carlo error
    sqrt((kappa + 2) / (4 B)), kappa the excess kurtosis of the replicates (both tables'
    kurtosis, the larger); the two errors add in quadrature (B = 1000 here, 4999 in mclust's
    table). Every one of the 21 numbers must lie within 5 of those standard deviations
    (deterministic seeds: the test cannot flake).
    """
    X, g = _mclust_model(stop_like_mclust, from_mclust_estimate=kind == "parametric")
    rows = _mclust_rows(mclust_type)
    ref_means = np.array(
        [[float(r["estimate"]) for r in rows if r["param"] == "mean" and r["k"] == k] for k in "123"]
    )
    _, order = linear_sum_assignment(((ref_means[:, None] - g.means_[None]) ** 2).sum(-1))
    n_boot = 1000
    result = emix.bootstrap(g, X, n_boot=n_boot, kind=kind, random_state=1)
    assert result.n_failed == 0
    for row in rows:
        ours, reps = _se_of(result, row, order)
        theirs = float(row["se"])
        kappa = max(float(row["kurtosis"]), _excess_kurtosis(reps))
        mc = np.sqrt((kappa + 2.0) / 4.0 * (1.0 / n_boot + 1.0 / int(row["nboot"])))
        z = (ours / theirs - 1.0) / mc
        assert abs(z) < 5.0, (row["param"], row["k"], row["i"], row["j"], ours, theirs, z)
