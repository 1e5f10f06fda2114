"""The 14 mclust covariance models: parameter counts, recovery, structure, monotone EM."""

import warnings

import numpy as np
import pytest
from scipy.stats import ortho_group

import emix
from emix.families.gaussian import COVARIANCE_MODELS, get_covariance_model
from emix.families.gaussian.mclust import MCLUST_ALIASES, MCLUST_MODELS

# covariance free parameters as mclust's nVarParams counts them (D features, K components)
PARAM_FORMULAS = {
    "EII": lambda d, k: 1,
    "VII": lambda d, k: k,
    "EEI": lambda d, k: d,
    "VEI": lambda d, k: k + d - 1,
    "EVI": lambda d, k: 1 + k * (d - 1),
    "VVI": lambda d, k: k * d,
    "EEE": lambda d, k: d * (d + 1) // 2,
    "VEE": lambda d, k: k + d - 1 + d * (d - 1) // 2,
    "EVE": lambda d, k: 1 + k * (d - 1) + d * (d - 1) // 2,
    "VVE": lambda d, k: k * d + d * (d - 1) // 2,
    "EEV": lambda d, k: 1 + (d - 1) + k * d * (d - 1) // 2,
    "VEV": lambda d, k: k + (d - 1) + k * d * (d - 1) // 2,
    "EVV": lambda d, k: 1 + k * (d * (d + 1) // 2 - 1),
    "VVV": lambda d, k: k * d * (d + 1) // 2,
}

# nVarParams(model, d = 2, G = 3) spelled out, a worked example of the table above
D2_K3 = {"EII": 1, "VII": 3, "EEI": 2, "VEI": 4, "EVI": 4, "VVI": 6, "EEE": 3,
         "VEE": 5, "EVE": 5, "VVE": 7, "EEV": 5, "VEV": 7, "EVV": 7, "VVV": 9}  # fmt: skip


def test_all_models_registered():
    assert set(MCLUST_MODELS) <= set(COVARIANCE_MODELS)
    assert len(MCLUST_MODELS) == 14
    for alias, name in MCLUST_ALIASES.items():
        assert type(get_covariance_model(alias)).__mro__[0] in type(get_covariance_model(name)).__mro__


@pytest.mark.parametrize("model", MCLUST_MODELS)
def test_parameter_counts(model):
    cov = get_covariance_model(model)
    for d in (1, 2, 3, 5):
        for k in (1, 2, 4):
            assert cov.n_parameters(k, d) == PARAM_FORMULAS[model](d, k), (model, d, k)
    assert cov.n_parameters(3, 2) == D2_K3[model]


def test_faithful_eee3_has_11_parameters():
    g = emix.GaussianMixture(3, covariance_type="EEE", random_state=0).fit(emix.datasets.load_faithful())
    assert g._n_parameters() == 11  # 6 means + 2 weights + 3 covariance (mclust's df)


# -- simulation from each model ---------------------------------------------------------


def model_covariances(model: str, k: int, d: int, rng) -> np.ndarray:
    """Covariances (K, D, D) obeying ``model``'s constraints: lambda_k D_k A_k D_k^T."""
    vol, shape, orient = model
    lam = np.full(k, 1.0) if vol == "E" else np.linspace(0.5, 2.0, k)
    A = np.ones((k, d))
    if shape != "I":
        base = np.linspace(3.0, 0.5, d)
        A = (
            np.tile(base, (k, 1))
            if shape == "E"
            else np.stack([np.roll(base, j) + 0.3 * j for j in range(k)])
        )
        A /= np.exp(np.log(A).mean(axis=1, keepdims=True))
    if orient == "I":
        R = np.tile(np.eye(d), (k, 1, 1))
    elif orient == "E":
        R = np.tile(ortho_group.rvs(d, random_state=rng), (k, 1, 1))
    else:
        R = np.stack([ortho_group.rvs(d, random_state=rng) for _ in range(k)])
    return np.einsum("k,kij,kj,klj->kil", lam, R, A, R)


def simulate(model, n=1500, k=2, d=3, seed=0):
    rng = np.random.RandomState(seed)
    covs = model_covariances(model, k, d, rng)
    means = np.zeros((k, d))
    means[:, 0] = np.arange(k) * 12.0
    weights = np.full(k, 1.0 / k)
    labels = rng.choice(k, size=n, p=weights)
    X = np.empty((n, d))
    for j in range(k):
        idx = labels == j
        X[idx] = rng.multivariate_normal(means[j], covs[j], size=idx.sum())
    return X, weights, means, covs


def full_covariances(g) -> np.ndarray:
    model = get_covariance_model(g.covariance_type)
    d = g.means_.shape[1]
    return np.stack([model.component_covariance(g.covariances_, j, d) for j in range(g.n_components)])


def assert_structure(model: str, covs: np.ndarray, rtol=1e-6):
    """The fitted covariances satisfy the model's constraints."""
    vol, shape, orient = model
    k, d, _ = covs.shape
    lam = np.exp(np.linalg.slogdet(covs)[1] / d)
    eig = np.linalg.eigvalsh(covs)[:, ::-1] / lam[:, None]
    if vol == "E":
        np.testing.assert_allclose(lam, lam[0], rtol=rtol)
    if shape == "I":
        np.testing.assert_allclose(eig, 1.0, rtol=rtol)
    if shape == "E":
        np.testing.assert_allclose(eig, np.broadcast_to(eig[:1], eig.shape), rtol=rtol)
    scale = np.abs(covs).max()
    if orient == "I":
        off = covs - np.einsum("kii->ki", covs)[:, :, None] * np.eye(d)
        np.testing.assert_allclose(off, 0.0, atol=rtol * scale)
    if orient == "E":  # a common orientation: the covariances commute
        for j in range(1, k):
            ab = covs[0] @ covs[j]
            np.testing.assert_allclose(ab, ab.T, atol=1e-6 * np.abs(ab).max())


@pytest.mark.parametrize("model", MCLUST_MODELS)
def test_recovers_generating_parameters(model):
    X, weights, means, covs = simulate(model)
    g = emix.GaussianMixture(2, covariance_type=model, reg_covar=0.0, tol=1e-8, max_iter=500, random_state=0)
    g.fit(X)
    order = np.argsort(g.means_[:, 0])
    n = X.shape[0]
    np.testing.assert_allclose(g.weights_[order], weights, atol=4 / np.sqrt(n))
    np.testing.assert_allclose(g.means_[order], means, atol=0.25)
    fitted = full_covariances(g)[order]
    for j in range(2):
        err = np.linalg.norm(fitted[j] - covs[j]) / np.linalg.norm(covs[j])
        assert err < 0.15, (model, j, err)
    assert_structure(model, fitted)
    h = g.history_
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1])), np.diff(h).min()


@pytest.mark.parametrize("model", MCLUST_MODELS)
def test_history_never_decreases_misspecified(model):
    """Faithful with K=4 fits no model exactly: iterative M-steps must still be monotone."""
    X = emix.datasets.load_faithful()
    with warnings.catch_warnings():
        warnings.simplefilter("error", emix.EmixWarning)  # a decrease would warn (strict with reg 0)
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        g = emix.GaussianMixture(
            4,
            covariance_type=model,
            reg_covar=0.0,
            tol=0.0,
            max_iter=60,
            init_params="random",
            random_state=1,
        ).fit(X)
    h = g.history_
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1]))
    assert_structure(model, full_covariances(g), rtol=1e-5)


@pytest.mark.parametrize("model", ["VEI", "VEE", "EVE", "VVE", "VEV"])
def test_iterative_m_step_is_a_maximum(model):
    """The constrained M-step beats nearby feasible covariances on the complete-data criterion."""
    X, *_ = simulate(model, n=400, seed=3)
    g = emix.GaussianMixture(
        2, covariance_type=model, reg_covar=0.0, tol=1e-10, max_iter=2000, random_state=0
    ).fit(X)
    resp = g.predict_proba(X)
    nk = resp.sum(axis=0)
    W = np.stack([(resp[:, j, None] * (X - g.means_[j])).T @ (X - g.means_[j]) for j in range(2)])

    def crit(covs):
        return sum(
            nk[j] * np.linalg.slogdet(covs[j])[1] + np.trace(np.linalg.solve(covs[j], W[j])) for j in range(2)
        )

    best = full_covariances(g)
    rng = np.random.default_rng(0)
    for _ in range(20):  # perturbations that keep the structure: rescale volumes / rotate jointly
        Q = np.linalg.qr(np.eye(3) + 0.05 * rng.standard_normal((3, 3)))[0]
        if model[2] == "I":  # axis-aligned models: rescale the axes jointly (det 1) instead
            Q = np.diag(np.exp(0.025 * rng.standard_normal(3)))
            Q /= np.exp(np.log(np.diag(Q)).mean())
        s = (
            np.exp(0.05 * rng.standard_normal(2))
            if model[0] == "V"
            else np.full(2, np.exp(0.05 * rng.standard_normal()))
        )
        pert = np.einsum("k,ij,kjl,ml->kim", s, Q, best, Q)
        assert crit(best) <= crit(pert) + 1e-6


def test_mclust_aliases_fit_like_sklearn_names():
    X = emix.datasets.load_faithful()
    for alias, name in MCLUST_ALIASES.items():
        a = emix.GaussianMixture(3, covariance_type=alias, random_state=0).fit(X)
        b = emix.GaussianMixture(3, covariance_type=name, random_state=0).fit(X)
        assert a.covariances_.shape == b.covariances_.shape
        np.testing.assert_allclose(a.log_likelihood_, b.log_likelihood_, rtol=1e-10)


def test_faithful_eee_k3_matches_mclust_loglik():
    X = emix.datasets.load_faithful()
    g = emix.GaussianMixture(
        3, covariance_type="EEE", reg_covar=0.0, tol=1e-12, max_iter=10000, init_params="hierarchical"
    ).fit(X)
    assert g.log_likelihood_ == pytest.approx(-1126.315928, abs=1e-4)
    assert g.init_used_ == "hierarchical"


def test_save_load_roundtrip_mclust_model(tmp_path):
    X = emix.datasets.load_faithful()
    g = emix.GaussianMixture(2, covariance_type="VEV", random_state=0).fit(X)
    g.save(tmp_path / "m.emix")
    h = emix.load(tmp_path / "m.emix")
    np.testing.assert_allclose(h.score_samples(X), g.score_samples(X))
