"""EM's invariants for every family and model, on data hypothesis generates (issue 12).

``tests/test_properties.py`` covers the Gaussian's four scikit-learn types
(monotone history with ``reg_covar=0``, chunk-size independence of the
in-memory fit, determinism, row order, responsibilities). This file extends
the invariants to every family and covariance model:

1. the per-iteration objective (``history_``) never decreases, to a few ulps
   times the number of rows, when the family declares its M-step exact
   (``exact_m_step``); with an inexact M-step (a pseudo-count, ``reg_covar``)
   emix does not record a drop anywhere, so the test asserts that no drop
   occurs there either;
2. the reported log-likelihood (``log_likelihood_``, ``history_[-1]``,
   ``lower_bound_ * n``, ``score(X) * n``) is that of the returned parameters,
   computed here from scratch with ``scipy.stats`` densities (``1e-10``
   relative); for the Bayesian mixture the ELBO of the returned parameters is
   recomputed by one pass of the engine;
3. fitting from an array, from ``ArraySource`` with several chunk sizes and
   (one case) from CSV and ``.npy`` files gives the same parameters to 1e-9.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special, stats

import emix
from emix.families.product import ProductFamily
from emix.families.registry import make_family
from emix.sources import ArraySource, CSVSource, NpySource

MCLUST = ["EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"]
GAUSSIAN = ["full", "tied", "diag", "spherical", *MCLUST]
EPS = float(np.finfo(np.float64).eps)
#: a handful of examples per case, the same ones on every run (no flaky test)
FEW = settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

pytestmark = pytest.mark.filterwarnings("ignore")  # convergence and degeneracy warnings are not the point


# -- data ---------------------------------------------------------------------------------------
@st.composite
def cases(draw, kind: str):
    """``(X, k, seed)``: rows of a K-component mixture of the kind the family models."""
    seed = draw(st.integers(0, 2**31 - 1))
    k = draw(st.integers(1, 3))
    d = draw(st.integers(1, 3))
    low = 10 * k * (d + 1)
    n = draw(st.integers(low, low + 60))
    rng = np.random.default_rng(seed)
    z = rng.integers(0, k, n)
    if kind == "real":
        X = rng.normal(scale=3.0, size=(k, d))[z] + rng.normal(size=(n, d))
    elif kind == "binary":
        X = (rng.random((n, d)) < rng.uniform(0.1, 0.9, (k, d))[z]).astype(float)
    elif kind == "counts":
        X = rng.poisson(rng.uniform(0.5, 8.0, (k, d))[z]).astype(float)
    elif kind == "levels":
        X = np.stack([rng.choice(3, p=rng.dirichlet(np.ones(3))) for _ in range(n * d)]).reshape(n, d)
        X = X.astype(float)
    elif kind == "positive":
        X = rng.exponential(1.0 / rng.uniform(0.3, 3.0, (k, d))[z])
    else:  # "mixed": a categorical column, two real ones
        X = np.column_stack(
            [rng.integers(0, 3, n), rng.normal(scale=2.0, size=(k, 2))[z] + rng.normal(size=(n, 2))]
        )
    return X, k, seed


# -- the estimators, one per family and setting -----------------------------------------------------
def _product(alpha: float):
    return ProductFamily(
        [
            (make_family("gaussian", covariance_type="diag", reg_covar=0.0), [1, 2]),
            (make_family("categorical", alpha=alpha), [0]),
        ]
    )


#: name -> (data kind, estimator factory(k, seed, **kw))
ESTIMATORS = {
    **{
        f"gaussian-{cov}": (
            "real",
            lambda k, s, cov=cov, **kw: emix.GaussianMixture(k, covariance_type=cov, random_state=s, **kw),
        )
        for cov in GAUSSIAN
    },
    "bernoulli": ("binary", lambda k, s, **kw: emix.BernoulliMixture(k, random_state=s, **kw)),
    "categorical": (
        "levels",
        lambda k, s, alpha=None, **kw: emix.Mixture(
            k,
            family={"family": "categorical", **({} if alpha is None else {"alpha": alpha})},
            random_state=s,
            **kw,
        ),
    ),
    "poisson": ("counts", lambda k, s, **kw: emix.PoissonMixture(k, random_state=s, **kw)),
    "exponential": (
        "positive",
        lambda k, s, **kw: emix.Mixture(k, family="exponential", random_state=s, **kw),
    ),
    "student": ("real", lambda k, s, **kw: emix.StudentMixture(k, random_state=s, **kw)),
    "student-fixed-dof": ("real", lambda k, s, **kw: emix.StudentMixture(k, dof=4.0, random_state=s, **kw)),
    "equal-weights": (
        "real",
        lambda k, s, **kw: emix.GaussianMixture(
            k, covariance_type="diag", equal_weights=True, random_state=s, **kw
        ),
    ),
}

#: the setting that makes each family's M-step exact (no pseudo-count, no jitter)
EXACT = {name: {"reg_covar": 0.0} for name in ESTIMATORS if name.startswith(("gaussian", "student", "equal"))}
EXACT.update({name: {"alpha": 0.0} for name in ("bernoulli", "categorical", "poisson")})
EXACT["exponential"] = {}


def _fit(name: str, X, k: int, seed: int, exact: bool, **kw):
    kind, make = ESTIMATORS[name]
    opts = dict(EXACT[name] if exact else {})
    opts.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make(k, seed, tol=0.0, max_iter=12, **opts).fit(X)


# -- densities from scratch (scipy.stats) ------------------------------------------------------------
def _full_covariances(cov: np.ndarray, k: int, d: int, per_component: bool) -> np.ndarray:
    """(K, D, D) covariance matrices from ``covariances_`` of any model."""
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim == 3:
        return cov
    if cov.ndim == 2 and not per_component:
        return np.broadcast_to(cov, (k, d, d))
    diag = cov if cov.ndim == 2 else np.repeat(cov[:, None], d, axis=1)
    return np.stack([np.diag(v) for v in diag])


def _component_log_pdf(name: str, m, X: np.ndarray) -> np.ndarray:
    """``log p(x_n | k)``, shape (n, K), from the fitted attributes and scipy.stats alone."""
    k, d = len(m.weights_), X.shape[1]
    if name.startswith(("gaussian", "equal")):
        per = emix.families.gaussian.GaussianFamily(m.covariance_type).model.per_component
        covs = _full_covariances(m.covariances_, k, d, per)
        return np.column_stack(
            [stats.multivariate_normal(m.means_[j], covs[j]).logpdf(X).reshape(-1) for j in range(k)]
        )
    if name.startswith("student"):
        covs = _full_covariances(m.covariances_, k, d, m.covariance_type != "tied")
        return np.column_stack(
            [stats.multivariate_t(m.means_[j], covs[j], df=m.dof_[j]).logpdf(X).reshape(-1) for j in range(k)]
        )
    if name == "bernoulli":
        return np.column_stack([stats.bernoulli(m.probabilities_[j]).logpmf(X).sum(axis=1) for j in range(k)])
    if name == "poisson":
        return np.column_stack([stats.poisson(m.rates_[j]).logpmf(X).sum(axis=1) for j in range(k)])
    if name == "exponential":
        return np.column_stack([stats.expon(scale=1.0 / m.rates_[j]).logpdf(X).sum(axis=1) for j in range(k)])
    if name == "categorical":
        P = m.probabilities_  # (K, D, L)
        codes = X.astype(int)
        with np.errstate(divide="ignore"):
            return np.column_stack([sum(np.log(P[j, c, codes[:, c]]) for c in range(d)) for j in range(k)])
    raise AssertionError(name)


def _direct_log_likelihood(name: str, m, X: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        joint = np.log(m.weights_)[None, :] + _component_log_pdf(name, m, X)
    return float(special.logsumexp(joint, axis=1).sum())


# -- 1 and 2: the history, and the likelihood of the returned parameters ----------------------------
def _check_history(m, n: int) -> None:
    h = np.asarray(m.history_, dtype=np.float64)
    assert np.isfinite(h).all()
    drops = h[:-1] - h[1:]
    allowed = 16 * EPS * (np.abs(h[:-1]) + n)  # a few ulps of the total, per row
    assert np.all(drops <= allowed), (
        f"the objective dropped by {drops.max():.3g} (allowed {allowed.max():.3g})"
    )


def _check_reported(name: str, m, X: np.ndarray) -> None:
    n = X.shape[0]
    direct = _direct_log_likelihood(name, m, X)
    for what, value in [
        ("log_likelihood_", m.log_likelihood_),
        ("history_[-1]", m.history_[-1]),
        ("lower_bound_ * n", m.lower_bound_ * n),
        ("score(X) * n", m.score(X) * n),
    ]:
        assert value == pytest.approx(direct, rel=1e-10, abs=1e-9), what


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "default"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_objective_never_drops_and_is_that_of_the_returned_parameters(name, exact):
    """With an exact M-step the history never drops; with the default (inexact) one it may,
    and then the drop must be recorded (see the strict xfail below): here only (2) is asserted."""
    kind = ESTIMATORS[name][0]

    @FEW
    @given(cases(kind))
    def run(case):
        X, k, seed = case
        m = _fit(name, X, k, seed, exact)
        assert bool(m._make_family().exact_m_step) == exact or name == "exponential"
        if exact:
            _check_history(m, X.shape[0])
        _check_reported(name, m, X)

    run()


def _recorded_drop(m) -> bool:
    """Whether the fitted model says that its objective dropped (``diagnostics_``, issue 12)."""
    text = repr(getattr(m, "diagnostics_", "")).lower()
    return "drop" in text or "decrease" in text


def test_a_drop_of_an_inexact_m_step_is_recorded():
    """After an accepted SQUAREM point an inexact M-step (reg_covar > 0) can lower the history by
    ~5e-11; diagnostics_ says so (a note naming the iterations) instead of hiding it."""
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) * 0.5 + [3.0, 1.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = emix.GaussianMixture(2, tol=0.0, max_iter=60, random_state=0).fit(
            X
        )  # accelerated, reg_covar=1e-6
    h = np.asarray(m.history_)
    dropped = bool(np.any(h[:-1] - h[1:] > 16 * EPS * (np.abs(h[:-1]) + X.shape[0])))
    assert dropped, "this case is meant to show a drop; choose another if the M-step changed"
    assert _recorded_drop(m)


def test_product_of_families_on_a_mixed_table():
    @FEW
    @given(cases("mixed"), st.sampled_from([0.0, 0.01]))
    def run(case, alpha):
        X, k, seed = case
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = emix.Mixture(k, family=_product(alpha), tol=0.0, max_iter=12, random_state=seed).fit(X)
        _check_history(m, X.shape[0])
        covs = _full_covariances(m.part0_covariances_, k, 2, True)
        P = m.part1_probabilities_
        with np.errstate(divide="ignore"):
            comp = np.column_stack(
                [
                    stats.multivariate_normal(m.part0_means_[j], covs[j]).logpdf(X[:, 1:]).reshape(-1)
                    + np.log(P[j, 0, X[:, 0].astype(int)])
                    for j in range(k)
                ]
            )
            direct = float(special.logsumexp(np.log(m.weights_) + comp, axis=1).sum())
        assert m.log_likelihood_ == pytest.approx(direct, rel=1e-10)
        assert m.score(X) * X.shape[0] == pytest.approx(direct, rel=1e-10)

    run()


def test_bayesian_lower_bound_never_drops_and_is_that_of_the_returned_parameters():
    from emix.engine import e_pass

    @settings(FEW, max_examples=8)
    @given(cases("real"), st.sampled_from(["full", "tied", "diag", "spherical"]), st.booleans())
    def run(case, cov, exact):
        X, k, seed = case
        kw = {"reg_covar": 0.0} if exact else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = emix.BayesianGaussianMixture(
                n_components=k, covariance_type=cov, tol=0.0, max_iter=12, random_state=seed, **kw
            ).fit(X)
        if exact:
            _check_history(m, X.shape[0])
        family, params = m._make_family(), m._fitted_params()
        elbo = e_pass(ArraySource(X, None, X.shape[0]), family, params).log_likelihood  # with the prior terms
        for value in (m.history_[-1], m.elbo_, m.log_likelihood_):
            assert value == pytest.approx(elbo, rel=1e-10)
        # lower_bound_ is scikit-learn's: the ELBO less the constants scikit-learn leaves out
        offset = family.sklearn_offset(params.components, float(X.shape[0]))
        assert m.lower_bound_ == pytest.approx(elbo - offset, rel=1e-10, abs=1e-9)

    run()


# -- 3: the chunking does not matter -----------------------------------------------------------------
def _arrays(m) -> dict[str, np.ndarray]:
    names = m._make_family().array_names()
    return {"weights": m.weights_, **{a: getattr(m, a + "_") for a in names}}


def _same(a, b, what: str) -> None:
    for key in a:
        scale = max(float(np.abs(a[key]).max()), 1.0)
        np.testing.assert_allclose(b[key], a[key], rtol=1e-9, atol=1e-9 * scale, err_msg=f"{what}: {key}")


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_chunked_sources_give_the_in_memory_fit(name):
    kind = ESTIMATORS[name][0]

    @settings(max_examples=2, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(cases(kind), st.sampled_from([1, 7, 33]))
    def run(case, chunk):
        X, k, seed = case
        whole = _arrays(_fit(name, X, k, seed, exact=False))
        _same(whole, _arrays(_fit(name, X, k, seed, exact=False, chunk_size=chunk)), f"chunk_size={chunk}")
        _same(
            whole, _arrays(_fit(name, ArraySource(X, None, chunk), k, seed, exact=False)), f"source {chunk}"
        )

    run()


def test_files_give_the_in_memory_fit(tmp_path):
    rng = np.random.default_rng(8)
    X = np.r_[rng.normal(size=(70, 2)), rng.normal(size=(50, 2)) + [4.0, -1.0]]
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", header="a,b", comments="", fmt="%.17g")
    for name in ("gaussian-VEV", "student", "equal-weights"):
        whole = _arrays(_fit(name, X, 2, 0, exact=False))
        for source in (
            NpySource(tmp_path / "x.npy", chunk_rows=16),
            CSVSource(tmp_path / "x.csv", chunk_rows=25),
        ):
            _same(
                whole, _arrays(_fit(name, source, 2, 0, exact=False)), f"{name} from {type(source).__name__}"
            )
