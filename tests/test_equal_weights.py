"""Equal mixing weights (``equal_weights=True``, mclust's ``equalPro``) and the engine's two family hooks."""

import csv
import dataclasses
import warnings

import numpy as np
import pytest
from helpers import make_blobs
from mclust_reference import REFERENCE_DIR, load
from scipy.optimize import linear_sum_assignment

import emix
from emix.engine import MixtureParams, e_pass, m_step, run_em, stats_from_responsibilities
from emix.engine.hooks import ml_weights
from emix.exceptions import InvalidParameterError
from emix.families.gaussian import GaussianFamily
from emix.families.weights import EqualWeights
from emix.sources import ArraySource

# ------------------------------------------------------------------ the hooks


def test_default_weights_step_is_todays_bit_for_bit():
    rng = np.random.default_rng(0)
    nk = rng.random(5) * 100
    nk[2] = 0.0
    floor = 10.0 * np.finfo(np.float64).eps
    expected = nk / nk.sum()
    expected = np.maximum(expected, floor)
    expected /= expected.sum()
    assert np.array_equal(ml_weights(nk), expected)


@dataclasses.dataclass
class _WithPrior:
    """A Gaussian family with a constant objective term and a fixed weights step (test double)."""

    base: GaussianFamily
    term: float = -7.25

    def __getattr__(self, name):
        return getattr(self.base, name)

    def log_prior(self, weights, components):
        return self.term

    def weights_step(self, nk, previous):
        return np.array([0.25, 0.75])


def test_hooks_reach_the_pass_total_and_the_weights():
    X, _ = make_blobs(200, k=2, seed=1)
    fam = GaussianFamily("full", 0.0)
    src = ArraySource(X, None, 64)
    resp = np.eye(2)[(X[:, 0] > X[:, 0].mean()).astype(int)]
    stats = stats_from_responsibilities(src, fam, lambda Xc, o: resp[o : o + len(Xc)], X[:2])
    start = m_step(fam, stats, None)
    plain = e_pass(src, fam, start)
    hooked = _WithPrior(fam)
    withprior = e_pass(src, hooked, start)
    assert withprior.log_likelihood == pytest.approx(plain.log_likelihood - 7.25, abs=1e-12)
    new = m_step(hooked, withprior.stats, start)
    np.testing.assert_array_equal(new.weights, [0.25, 0.75])
    res = run_em(src, hooked, start, max_iter=5, tol=0.0, strict=False)  # fixed weights: not EM
    np.testing.assert_array_equal(res.params.weights, [0.25, 0.75])
    manual = e_pass(src, fam, res.params).log_likelihood - 7.25
    assert res.history[-1] == pytest.approx(manual, abs=1e-9)


# ------------------------------------------------------------ equal weights


@pytest.mark.parametrize(
    "make",
    [
        lambda: emix.GaussianMixture(3, equal_weights=True, random_state=0),
        lambda: emix.GaussianMixture(3, covariance_type="VEV", equal_weights=True, random_state=0),
        lambda: emix.StudentMixture(3, dof=5.0, equal_weights=True, random_state=0),
        lambda: emix.Mixture(3, family="gaussian", equal_weights=True, random_state=0),
    ],
)
def test_weights_stay_equal_and_parameters_drop(make):
    X, _ = make_blobs(300, k=3, seed=2)
    est = make().fit(X)
    np.testing.assert_array_equal(est.weights_, np.full(3, 1 / 3))
    free = type(est)(**{**est.get_params(), "equal_weights": False}).fit(X)
    assert est._n_parameters() == free._n_parameters() - 2
    n = X.shape[0]
    assert est.bic(X) == pytest.approx(-2 * est.score(X) * n + est._n_parameters() * np.log(n))


def test_equal_weights_counts_and_poisson_bernoulli():
    rng = np.random.default_rng(3)
    counts = np.concatenate([rng.poisson(2, (150, 3)), rng.poisson(9, (50, 3))]).astype(float)
    p = emix.PoissonMixture(2, equal_weights=True, random_state=0).fit(counts)
    np.testing.assert_array_equal(p.weights_, [0.5, 0.5])
    b = emix.BernoulliMixture(2, equal_weights=True, random_state=0, max_iter=1000).fit(
        (counts > 4).astype(float)
    )
    np.testing.assert_array_equal(b.weights_, [0.5, 0.5])


def test_equal_weights_with_missing_values_and_monotone_history():
    X, _ = make_blobs(300, k=3, seed=4)
    X[::7, 1] = np.nan
    g = emix.GaussianMixture(3, equal_weights=True, reg_covar=0.0, random_state=0, accelerate=False).fit(X)
    np.testing.assert_array_equal(g.weights_, np.full(3, 1 / 3))
    assert np.all(np.diff(g.history_) >= -1e-9 * np.abs(g.history_[1:]))


def test_equal_weights_must_be_a_bool():
    X, _ = make_blobs(50, k=2)
    with pytest.raises(InvalidParameterError, match="equal_weights must be a bool"):
        emix.GaussianMixture(2, equal_weights="yes").fit(X)


def test_equal_weights_round_trip(tmp_path):
    X, _ = make_blobs(200, k=2, seed=5)
    g = emix.GaussianMixture(2, equal_weights=True, random_state=0).fit(X)
    g.save(tmp_path / "m.emix")
    h = emix.load(tmp_path / "m.emix")
    assert h.equal_weights is True
    assert h._n_parameters() == g._n_parameters()
    np.testing.assert_allclose(h.score_samples(X), g.score_samples(X))


def test_wrapper_hands_out_wrapped_families():
    fam = EqualWeights(GaussianFamily("full", 1e-6))
    X = np.zeros((3, 2))
    assert isinstance(fam.configure(X), EqualWeights)
    assert isinstance(fam.for_missing(X), EqualWeights)
    assert getattr(fam, "init_family", fam) is fam
    assert isinstance(fam.for_missing(X).init_family, EqualWeights)
    assert fam.spec() == GaussianFamily("full", 1e-6).spec()


# ------------------------------------------------------------ against mclust

EQUALPRO = list(csv.DictReader(open(REFERENCE_DIR / "equalpro.csv", newline="")))


def _mclust_start(X, z, model, k):
    """emix's start from mclust's hc partition ``z`` (0-based): one M-step with equal weights."""
    family = EqualWeights(GaussianFamily(model, 0.0))
    onehot = np.eye(k)[z]
    stats = stats_from_responsibilities(
        ArraySource(X, None, 10_000), family, lambda Xc, o: onehot[o : o + len(Xc)], X[:k]
    )
    start = m_step(family, stats, None)
    assert isinstance(start, MixtureParams)
    return start.components


@pytest.mark.parametrize("row", EQUALPRO, ids=lambda r: f"{r['dataset']}-{r['model']}-{r['G']}")
def test_equal_weights_matches_mclust_equalpro(row):
    ref = load(row["dataset"])
    X, k, model = ref.X, int(row["G"]), row["model"]
    comps = _mclust_start(X, np.asarray(ref.starts[k]) - 1, model, k)
    prec = GaussianFamily(model, 0.0).model.precisions(comps.precisions_cholesky)
    g = emix.GaussianMixture(
        k,
        covariance_type=model,
        equal_weights=True,
        reg_covar=0.0,
        rtol=1e-12,
        max_iter=5000,
        means_init=comps.means,
        precisions_init=prec,
        weights_init=np.full(k, 1 / k),
        accelerate=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", emix.ConvergenceWarning)
        g.fit(X)
    ll = float(row["loglik"])
    # mclust stops at a relative change of 1e-5; emix goes on from the same start, so it may end
    # higher (by EM's remaining gain), never lower
    assert g.log_likelihood_ >= ll - 1e-9 * abs(ll)
    assert g.log_likelihood_ - ll <= 5e-5 * abs(ll)
    assert g._n_parameters() == int(row["df"])
    assert -g.bic(X) == pytest.approx(2 * g.log_likelihood_ - int(row["df"]) * np.log(len(X)), rel=1e-12)
    assert -g.bic(X) - float(row["bic"]) == pytest.approx(2 * (g.log_likelihood_ - ll), abs=1e-6)
    d = X.shape[1]
    means = np.array([[float(row[f"mean_{j}_{i}"]) for i in range(1, d + 1)] for j in range(1, k + 1)])
    a, b = linear_sum_assignment(((g.means_[:, None] - means[None]) ** 2).sum(-1))
    scale = X.std(axis=0)
    assert np.max(np.abs(g.means_[a] - means[b]) / scale) < 2e-2
