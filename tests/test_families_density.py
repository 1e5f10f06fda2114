"""Family log-densities agree with scipy.stats; statistics add over chunks."""

import numpy as np
import pytest
from scipy import stats

from emix.families import (
    BernoulliFamily,
    CategoricalFamily,
    ExponentialFamily,
    PoissonFamily,
    ProductFamily,
    StudentFamily,
    make_family,
)
from emix.families.bernoulli import BernoulliParams
from emix.families.categorical import CategoricalParams
from emix.families.exponential import ExponentialParams
from emix.families.poisson import PoissonParams
from emix.families.student import StudentParams

RNG = np.random.default_rng(12345)


def test_bernoulli_matches_scipy():
    p = RNG.uniform(0.05, 0.95, (3, 5))
    X = (RNG.random((40, 5)) < 0.5).astype(float)
    got = BernoulliFamily().log_prob(X, BernoulliParams(p))
    want = np.stack([stats.bernoulli.logpmf(X, p[k]).sum(axis=1) for k in range(3)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_bernoulli_zero_probability_gives_minus_inf_not_nan():
    p = np.array([[0.0, 1.0], [0.5, 0.5]])
    X = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    got = BernoulliFamily(alpha=0).log_prob(X, BernoulliParams(p))
    assert not np.isnan(got).any()
    assert got[0, 0] == 0.0 and got[1, 0] == -np.inf and got[2, 0] == -np.inf
    np.testing.assert_allclose(got[:, 1], 2 * np.log(0.5))


def test_poisson_matches_scipy():
    lam = RNG.uniform(0.1, 9.0, (3, 4))
    lam[0, 0] = 0.0  # a zero rate: log(0) only where the count is positive
    X = RNG.poisson(3.0, (50, 4)).astype(float)
    got = PoissonFamily().log_prob(X, PoissonParams(lam))
    want = np.stack([stats.poisson.logpmf(X, lam[k]).sum(axis=1) for k in range(3)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_exponential_matches_scipy():
    lam = RNG.uniform(0.2, 5.0, (3, 4))
    X = RNG.exponential(1.0, (50, 4))
    got = ExponentialFamily().log_prob(X, ExponentialParams(lam))
    want = np.stack([stats.expon.logpdf(X, scale=1 / lam[k]).sum(axis=1) for k in range(3)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_categorical_matches_direct_computation():
    n_levels = np.array([2, 4, 3])
    p = np.zeros((2, 3, 4))
    for k in range(2):
        for j, L in enumerate(n_levels):
            p[k, j, :L] = RNG.dirichlet(np.ones(L))
    X = np.column_stack([RNG.integers(0, L, 30) for L in n_levels]).astype(float)
    got = CategoricalFamily().log_prob(X, CategoricalParams(p, n_levels))
    want = np.array([[sum(np.log(p[k, j, int(x[j])]) for j in range(3)) for k in range(2)] for x in X])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _spd(d, rng):
    a = rng.standard_normal((d, d))
    return a @ a.T + d * np.eye(d)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_student_matches_scipy_multivariate_t(covariance_type):
    k, d = 2, 3
    fam = StudentFamily(covariance_type=covariance_type)
    means = RNG.standard_normal((k, d))
    full = {
        "full": np.stack([_spd(d, RNG) for _ in range(k)]),
        "tied": _spd(d, RNG),
        "diag": RNG.uniform(0.5, 2.0, (k, d)),
        "spherical": RNG.uniform(0.5, 2.0, k),
    }[covariance_type]
    params = fam.from_arrays({"means": means, "covariances": full, "dof": np.array([3.5, 12.0])}, k, d)
    X = RNG.standard_normal((25, d)) * 2
    got = fam.log_prob(X, params)
    for j in range(k):
        shape = fam.model.component_covariance(params.covariances, j, d)
        want = stats.multivariate_t(loc=means[j], shape=shape, df=params.dof[j]).logpdf(X)
        np.testing.assert_allclose(got[:, j], want, rtol=1e-10)


def test_student_one_dimension_matches_scipy_t():
    fam = StudentFamily(covariance_type="full")
    params = StudentParams(
        means=np.array([[1.0]]),
        covariances=np.array([[[4.0]]]),
        precisions_cholesky=np.array([[[0.5]]]),
        dof=np.array([2.5]),
    )
    X = np.linspace(-10, 10, 21)[:, None]
    want = stats.t(df=2.5, loc=1.0, scale=2.0).logpdf(X[:, 0])
    np.testing.assert_allclose(fam.log_prob(X, params)[:, 0], want, rtol=1e-12)


def test_product_is_sum_of_parts():
    g = make_family("gaussian", covariance_type="diag")
    c = CategoricalFamily()
    fam = ProductFamily([(c, [1]), (g, [0, 2])])
    X = np.column_stack([RNG.standard_normal(20), RNG.integers(0, 3, 20), RNG.standard_normal(20)])
    gp = g.from_arrays({"means": RNG.standard_normal((2, 2)), "covariances": np.ones((2, 2))}, 2, 2)
    cp = c.from_arrays({"probabilities": np.full((2, 1, 3), 1 / 3)}, 2, 1)
    from emix.families.product import ProductParams

    got = fam.log_prob(X, ProductParams((cp, gp)))
    want = c.log_prob(X[:, [1]], cp) + g.log_prob(X[:, [0, 2]], gp)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def _families_and_data():
    n = 60
    return [
        (BernoulliFamily(), (RNG.random((n, 4)) < 0.4).astype(float)),
        (PoissonFamily(), RNG.poisson(2.0, (n, 3)).astype(float)),
        (ExponentialFamily(), RNG.exponential(1.0, (n, 3))),
        (CategoricalFamily().configure(np.array([[2.0, 1.0]])), RNG.integers(0, 2, (n, 2)).astype(float)),
        (StudentFamily(), RNG.standard_normal((n, 2))),
    ]


@pytest.mark.parametrize("index", range(5))
def test_statistics_of_whole_equal_sum_of_parts(index):
    fam, X = _families_and_data()[index]
    resp = RNG.dirichlet(np.ones(3), X.shape[0])
    centres = X[:3].copy()
    anchor = fam.anchor_from_centres(centres)
    whole = fam.accumulate(X, resp, anchor)
    parts = fam.accumulate(X[:25], resp[:25], anchor) + fam.accumulate(X[25:], resp[25:], anchor)
    params = fam.m_step(whole, None)
    # one more round from real parameters (the Student-t anchor then holds parameters)
    anchor = fam.anchor(params)
    whole2 = fam.accumulate(X, resp, anchor)
    parts2 = fam.accumulate(X[:25], resp[:25], anchor) + fam.accumulate(X[25:], resp[25:], anchor)
    for a, b in ((whole, parts), (whole2, parts2)):
        for name, value in vars(a).items():
            other = getattr(b, name)
            if isinstance(value, np.ndarray):
                np.testing.assert_allclose(value, other, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "cov_type", ["full", "tied", "diag", "spherical", "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
                 "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"],
)  # fmt: skip
def test_covariances_and_precisions_that_disagree_are_refused_naming_the_component(cov_type):
    import emix
    from emix.exceptions import InvalidParameterError
    from emix.families import GaussianComponents

    family = GaussianComponents(cov_type, 0.0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    gm = emix.GaussianMixture(3, covariance_type=cov_type, random_state=0, convergence="sklearn").fit(X)
    arrays = {
        "means": gm.means_,
        "covariances": gm.covariances_,
        "precisions_cholesky": gm.precisions_cholesky_,
    }
    family.from_arrays(arrays, 3, 3)  # they agree
    pc = np.array(gm.precisions_cholesky_, copy=True)
    if cov_type in ("tied", "EEE"):  # one shared factor
        pc *= 1.1
        component = 0
    else:
        pc[2] *= 1.1
        component = 2
    with pytest.raises(
        InvalidParameterError, match=f"component {component}: covariances and precisions_cholesky"
    ):
        family.from_arrays({**arrays, "precisions_cholesky": pc}, 3, 3)
