"""The lecture example: one EM iteration checked against hand-derived values.

Data X = [[1,8],[2.5,7.5],[2,7],[8.5,2.5],[9,2],[8,1]], K=2, weights 0.6/0.4,
means m1=[4.5,2.5], m2=[2.5,5.0], identity covariances.

E-step by Bayes' rule. With identity covariances N(x|m, I) = exp(-d/2) / (2 pi),
d = |x - m|^2, so r_n1 = 1 / (1 + (0.4/0.6) exp((d_n1 - d_n2) / 2)).
The squared distances, worked out by hand:

    x          d_n1    d_n2
    (1, 8)     42.5    11.25
    (2.5,7.5)  29.0     6.25
    (2, 7)     26.5     4.25
    (8.5,2.5)  16.0    42.25
    (9, 2)     20.5    51.25
    (8, 1)     14.5    46.25

The slide rounds r to 0/1 and then divides; the exact values below win.
"""

import math

import numpy as np
import pytest

import emix

pytestmark = pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")

D1 = [42.5, 29.0, 26.5, 16.0, 20.5, 14.5]
D2 = [11.25, 6.25, 4.25, 42.25, 51.25, 46.25]
X = np.array([[1, 8], [2.5, 7.5], [2, 7], [8.5, 2.5], [9, 2], [8, 1]], dtype=float)

# r_n1 from the closed form above, written out to 10 significant digits
R1 = [2.456065093e-07, 1.721805337e-05, 2.210831003e-05, 0.9999986702, 0.9999998598, 0.9999999150]


def hand_responsibilities():
    r1 = np.array([1.0 / (1.0 + (0.4 / 0.6) * math.exp((a - b) / 2)) for a, b in zip(D1, D2)])
    return np.column_stack([r1, 1 - r1])


def lecture_model(**kw):
    _, init = emix.datasets.load_lecture_example(return_init=True)
    return emix.GaussianMixture(2, reg_covar=0.0, tol=0.0, **init, **kw)


def test_dataset_matches_lecture():
    Xd, init = emix.datasets.load_lecture_example(return_init=True)
    np.testing.assert_array_equal(Xd, X)
    np.testing.assert_array_equal(init["weights_init"], [0.6, 0.4])
    np.testing.assert_array_equal(init["means_init"], [[4.5, 2.5], [2.5, 5.0]])


def test_e_step_responsibilities_by_hand():
    R = hand_responsibilities()
    np.testing.assert_allclose(R[:, 0], R1, rtol=1e-9)
    # the initial model's predict_proba is exactly that E-step
    model = lecture_model(max_iter=0).fit(X)
    np.testing.assert_allclose(model.predict_proba(X), R, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0, rtol=1e-15)


def test_m_step_after_one_iteration_by_hand():
    R = hand_responsibilities()
    Nk = R.sum(axis=0)
    # N_1 = 3 + small, N_2 = 3 - small: the three left points go to component 2
    np.testing.assert_allclose(Nk, [3.000038016974279, 2.9999619830257207], rtol=1e-10)
    weights = Nk / 6
    means = (R.T @ X) / Nk[:, None]
    covs = [((R[:, k, None] * (X - means[k])).T @ (X - means[k])) / Nk[k] for k in range(2)]
    # hand arithmetic, to 9 digits
    np.testing.assert_allclose(weights, [0.500006336, 0.499993664], rtol=1e-8)
    np.testing.assert_allclose(means, [[8.49991704, 1.83340416], [1.83333181, 7.50000099]], rtol=1e-8)
    np.testing.assert_allclose(covs[0], [[0.167187103, 0.166218136], [0.166218136, 0.389267866]], rtol=1e-8)
    np.testing.assert_allclose(covs[1], [[0.388914183, -0.166685884], [-0.166685884, 0.166680608]], rtol=1e-8)

    model = lecture_model(max_iter=1).fit(X)
    assert model.n_iter_ == 1
    np.testing.assert_allclose(model.weights_, weights, rtol=1e-12)
    np.testing.assert_allclose(model.means_, means, rtol=1e-12)
    np.testing.assert_allclose(model.covariances_, np.array(covs), rtol=1e-10)


def test_initial_log_likelihood_by_hand():
    # ln p(X | theta_0) = sum_n ln( sum_k pi_k exp(-d_nk / 2) / (2 pi) )
    ll0 = sum(
        math.log(0.6 * math.exp(-a / 2) / (2 * math.pi) + 0.4 * math.exp(-b / 2) / (2 * math.pi))
        for a, b in zip(D1, D2)
    )
    assert ll0 == pytest.approx(-51.68357033801741, rel=1e-12)
    model = lecture_model(max_iter=1).fit(X)
    assert model.history_[0] == pytest.approx(ll0, rel=1e-12)


def test_history_rises():
    model = lecture_model(max_iter=10).fit(X)
    h = model.history_
    assert len(h) <= model.n_iter_ + 1  # n_iter_ counts passes, extrapolation trials too
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1]))
    assert h[-1] > h[0] + 40  # from -51.7 to a well-fitting two-cluster model
