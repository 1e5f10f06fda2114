"""The statistics operations online EM needs: scaling, exact re-centring, and the blend.

Statistics of different batches are centred on different anchors; moving
them to one anchor must equal accumulating about that anchor directly, for
every covariance layout (with K == D, where a (D, D) tied scatter and a
(K, D) diagonal one have the same shape), with large feature offsets.
"""

import dataclasses

import numpy as np
import pytest

from emix.engine import step_size
from emix.engine.online import blend
from emix.exceptions import InvalidParameterError
from emix.families.base import Stats, recentre_stats
from emix.families.categorical import CategoricalFamily
from emix.families.gaussian import GaussianFamily
from emix.families.poisson import PoissonFamily
from emix.families.product import ProductFamily
from emix.families.student import StudentFamily, StudentParams

OFFSET = 1e5
K = D = 3


def data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, D)) * [1.0, 2.0, 0.5] + OFFSET
    R = rng.dirichlet(np.ones(K), n)
    return X, R


def anchors(seed=1):
    rng = np.random.default_rng(seed)
    return OFFSET + rng.normal(size=(K, D)), OFFSET + rng.normal(size=(K, D))


def assert_stats_close(a, b, rtol=1e-11):
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, Stats):
            assert_stats_close(x, y, rtol)
        elif isinstance(x, tuple) and x and isinstance(x[0], Stats):
            for p, q in zip(x, y, strict=True):
                assert_stats_close(p, q, rtol)
        elif x is None:
            assert y is None
        else:
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            scale = max(float(np.abs(y).max()), 1.0)
            np.testing.assert_allclose(x, y, rtol=0, atol=rtol * scale, err_msg=f.name)


def test_scaled_multiplies_summed_fields_and_keeps_fixed_ones():
    X, R = data()
    a, _ = anchors()
    s = GaussianFamily("full").accumulate(X, R, a)
    t = s.scaled(0.25)
    np.testing.assert_array_equal(t.nk, s.nk * 0.25)
    np.testing.assert_array_equal(t.s2, s.s2 * 0.25)
    assert t.centre is s.centre  # fixed: not scaled
    cat = CategoricalFamily(n_levels=3)
    Y = np.random.default_rng(0).integers(0, 3, (50, 2)).astype(float)
    c = cat.accumulate(Y, R[:50], cat.anchor_from_centres(np.zeros((K, 2))))
    assert c.scaled(2.0).n_levels == c.n_levels and c.scaled(2.0).nkd is None
    np.testing.assert_array_equal(c.scaled(2.0).counts, 2 * c.counts)


def test_scaled_statistics_are_those_of_the_weights_times_the_factor():
    X, R = data()
    fam = PoissonFamily()
    Y = np.round(np.abs(X - OFFSET) * 3)
    assert_stats_close(fam.accumulate(Y, R, None).scaled(3.5), fam.accumulate(Y, R * 3.5, None))


@pytest.mark.parametrize("cov", ["full", "tied", "diag", "spherical", "VEV", "EEI", "EII"])
def test_gaussian_recentring_equals_accumulating_about_the_new_anchor(cov):
    X, R = data()
    a, b = anchors()
    fam = GaussianFamily(cov)
    sa, sb = fam.accumulate(X, R, a), fam.accumulate(X, R, b)
    moved = recentre_stats(fam, sa, sb)
    assert moved.centre is sb.centre
    assert_stats_close(moved, sb)
    # and the M-step sees the same parameters, to the digits the offset leaves
    pa, pb = fam.m_step(moved, None), fam.m_step(sb, None)
    np.testing.assert_allclose(pa.covariances, pb.covariances, rtol=1e-9)


def test_student_recentring_moves_the_centre_and_the_dof_reference():
    X, R = data()
    a, b = anchors()
    fam = StudentFamily("full")
    cov = np.broadcast_to(np.eye(D) * 2.0, (K, D, D)).copy()
    fa = fam.from_arrays({"means": a, "covariances": cov, "dof": np.full(K, 5.0)}, K, D)
    fb = fam.from_arrays({"means": b, "covariances": cov, "dof": np.full(K, 12.0)}, K, D)
    assert isinstance(fa, StudentParams)
    sa = fam.accumulate(X, R, fam.anchor(fa))
    ref = fam.accumulate(X[:1], R[:1], fam.anchor(fb))  # only its centre and dof_old are used
    moved = fam.recentre_stats(sa, ref)
    assert moved.centre is ref.centre and moved.dof_old is ref.dof_old
    # the same weighted sums about b: s1, s2 with the scale weights of pa
    direct = fam.model.scatter(X, _scale_weights(fam, fa, X, R), b)
    np.testing.assert_allclose(moved.s1, direct[0], rtol=0, atol=1e-9 * np.abs(direct[0]).max())
    np.testing.assert_allclose(moved.s2, direct[1], rtol=1e-11)
    # the dof M-step reads the same equation from either reference
    np.testing.assert_allclose(fam.m_step(moved, fb).dof, fam.m_step(sa, fa).dof, rtol=1e-10)


def _scale_weights(fam, params, X, R):
    delta, _ = fam._mahalanobis(X, params)
    u = (params.dof + D) / (params.dof + delta)
    return R * u


def test_product_recentres_each_part():
    X, R = data()
    a, b = anchors()
    fam = ProductFamily([(GaussianFamily("diag"), [0, 1]), (GaussianFamily("full"), [2])])
    sa = fam.accumulate(X, R, (a[:, :2], a[:, 2:]))
    sb = fam.accumulate(X, R, (b[:, :2], b[:, 2:]))
    assert_stats_close(recentre_stats(fam, sa, sb), sb)


def test_without_a_recentring_hook_different_anchors_are_refused():
    class Plain:
        name = "plain"

    @dataclasses.dataclass(frozen=True)
    class Anchored(Stats):
        centre: np.ndarray
        _fixed = ("centre",)

    one = Anchored(nk=np.ones(2), centre=np.zeros(2))
    assert recentre_stats(Plain(), one, Anchored(nk=np.ones(2), centre=np.zeros(2))) is one
    with pytest.raises(InvalidParameterError, match=r"plain: statistics with different 'centre'"):
        recentre_stats(Plain(), one, Anchored(nk=np.ones(2), centre=np.ones(2)))


@pytest.mark.parametrize("cov", ["full", "tied", "diag", "spherical"])
def test_blend_equals_the_weighted_statistics_of_both_batches(cov):
    """(1 - g) S_A / W_A + g S_B / W_B, centred on different anchors, equals one accumulation of
    the rows of both with weights (1 - g) / W_A and g / W_B about B's anchor."""
    X, R = data(600)
    a, b = anchors()
    fam = GaussianFamily(cov)
    A, B = slice(0, 250), slice(250, 600)
    wa, wb = R[A].sum(), R[B].sum()
    g = step_size(3, 0.7)
    mixed = blend(
        fam, fam.accumulate(X[A], R[A], a).scaled(1 / wa), fam.accumulate(X[B], R[B], b).scaled(1 / wb), g
    )
    rows = np.concatenate([R[A] * (1 - g) / wa, R[B] * g / wb])
    assert_stats_close(mixed, fam.accumulate(X, rows, b))


def test_step_size():
    assert step_size(0, 1.0) == 0.5
    assert step_size(8, 0.5) == pytest.approx(1 / np.sqrt(10))
