"""The pass over an in-memory array in fixed row groups (issue 15): same bits for any threads and chunks.

An in-memory array with a compiled kernel is not cut into chunks: the kernel runs over row groups
fixed by the number of rows alone (``emix.engine.passes.row_groups``), each group's statistics in
its own slot, added in group order. These tests hold it to the chunked pass (to rounding) and to
itself across threads and chunk sizes (to the bit).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from emix import _kernels
from emix.engine import e_pass
from emix.engine.passes import GROUP_MULTIPLE, GROUP_ROWS, MAX_GROUPS, row_groups
from emix.engine.pool import ChunkPool
from emix.engine.results import MixtureParams
from emix.estimators.gaussian import GaussianMixture
from emix.families.gaussian.grouped import GroupedPass, group_kind
from emix.sources import ArraySource

COV_TYPES = ("full", "tied", "diag", "spherical")


def _data(n=40_000, d=6, k=3, offset=100.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(k, d)) + offset
    return centres[rng.integers(0, k, size=n)] + rng.standard_normal((n, d))


def _fitted(X, cov):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(3, covariance_type=cov, max_iter=2, tol=0, random_state=0).fit(X)
    return gm._fitted_params(), gm._make_family()


def _same(a, b) -> bool:
    return a.log_likelihood == b.log_likelihood and all(
        np.array_equal(getattr(a.stats, f), getattr(b.stats, f)) for f in ("nk", "s1", "s2")
    )


def test_row_groups_are_fixed_by_the_rows_alone():
    """One group up to GROUP_ROWS rows; beyond, a multiple of GROUP_MULTIPLE groups (so that
    two or four threads take equal shares), at most MAX_GROUPS, nearly equal."""
    for n, expect in (
        (1, 1),
        (100, 1),
        (GROUP_ROWS, 1),
        (GROUP_ROWS + 1, 4),
        (100_000, 8),
        (200_000, 16),
        (10**7, 16),
    ):
        b = row_groups(n)
        sizes = np.diff(b)
        assert b[0] == 0 and b[-1] == n and sizes.min() >= 1
        assert len(sizes) == expect
        assert len(sizes) == 1 or len(sizes) % GROUP_MULTIPLE == 0
        assert len(sizes) >= min(MAX_GROUPS, -(-n // GROUP_ROWS))
        assert sizes.max() - sizes.min() <= 1


@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_grouped_pass_same_bits_for_any_threads_and_chunks(cov, dtype, weighted):
    X = _data().astype(dtype)
    params, family = _fitted(X, cov)
    w = np.random.default_rng(1).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    kind = group_kind(family.model, X)
    if not _kernels.numba_available():
        assert kind is None
        return
    assert kind is not None
    calls = []
    orig = GroupedPass.run
    GroupedPass.run = lambda self, g0, g1: (calls.append((g0, g1)), orig(self, g0, g1))[1]
    try:
        runs = []
        for n_jobs, chunk in ((1, 8192), (2, 8192), (3, 512), (2, 100_000)):
            with ChunkPool(n_jobs) as pool:
                runs.append(e_pass(ArraySource(X, w, chunk), family, params, pool=pool))
    finally:
        GroupedPass.run = orig
    assert sorted(set(calls)) == [(0, 1), (0, 2), (0, 4), (1, 2), (2, 4)]  # 4 groups, split 1, 2 or 3 ways
    assert all(_same(r, runs[0]) for r in runs[1:])
    chunked = e_pass(ArraySource(X, w, 4096), family, params, grouped=False)
    assert runs[0].log_likelihood == pytest.approx(chunked.log_likelihood, rel=1e-12)
    scale = float(np.abs(X).max())  # statistics near zero (centred on the means): to the sums' magnitude
    for f, power in (("nk", 0), ("s1", 1), ("s2", 2)):
        ref, got = getattr(chunked.stats, f), getattr(runs[0].stats, f)
        if f == "s2" and cov == "spherical":
            # the spherical kernel splits each component's scalar over the features per call (see
            # emix._kernels.numba_axis), so only the sum over the features is chunking-free
            ref, got = ref.sum(axis=1), got.sum(axis=1)
        # float32: diag/spherical sum 128-row blocks in float32, and groups and chunks start
        # their blocks on different rows
        atol = max(1e-13, 1e-3 * float(np.finfo(dtype).eps)) * X.shape[0] * scale**power
        rtol = 1e-10 if dtype == np.float64 else 5e-5  # float32 rounding, as NumPy's float32 kernel
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol)


@pytest.mark.parametrize("cov", COV_TYPES)
def test_fit_same_bits_for_one_and_two_threads(cov):
    X = _data(n=50_000, offset=0.0)
    k, d = 3, X.shape[1]
    rng = np.random.default_rng(2)
    start = {
        "weights_init": np.full(k, 1.0 / k),
        "means_init": X[rng.choice(X.shape[0], k, replace=False)],
        "precisions_init": {
            "full": np.tile(np.eye(d), (k, 1, 1)),
            "tied": np.eye(d),
            "diag": np.ones((k, d)),
            "spherical": np.ones(k),
        }[cov],
    }
    kw = dict(covariance_type=cov, tol=0, max_iter=6, accelerate=False, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = GaussianMixture(k, n_jobs=1, **kw).fit(X)
        b = GaussianMixture(k, n_jobs=2, chunk_size=3000, **kw).fit(X)
    assert np.array_equal(a.history_, b.history_)
    assert np.array_equal(a.means_, b.means_) and np.array_equal(a.covariances_, b.covariances_)


@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("n", [3_000, 40_000])
@pytest.mark.parametrize("reg_covar", [1e-6, 0.0])
def test_final_entry_is_the_log_likelihood_of_the_returned_parameters(cov, n, reg_covar):
    """The final pass computes the log-likelihood alone (no statistics); it is still that of the
    parameters returned, as ``score`` computes it independently (NumPy, row by row)."""
    rng = np.random.default_rng(0)  # overlapping clusters, a random start: the first step moves EM
    scale = np.array([0.3, 1, 1, 2, 3, 1])
    X = rng.normal(0, 1, size=(3, 6))[rng.integers(0, 3, size=n)] + rng.standard_normal((n, 6)) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = dict(reg_covar=reg_covar, max_iter=1, tol=0, init_params="random_from_data", random_state=0)
        gm = GaussianMixture(3, covariance_type=cov, **kw).fit(X)
    assert abs(gm.history_[-1] - gm.history_[-2]) > 1e-11 * abs(gm.history_[-1])  # the last step counts
    assert gm.history_[-1] == pytest.approx(gm.score(X) * n, rel=1e-13)
    assert gm.lower_bound_ == pytest.approx(gm.score(X), rel=1e-13)


def test_a_family_subclass_with_its_own_e_step_keeps_its_chunks():
    """The grouped pass runs the built-in kernel: a subclass that changes the E-step must not get it."""
    from emix.families.gaussian import GaussianFamily

    X = _data(n=20_000)
    params, family = _fitted(X, "diag")
    seen = []

    class Tempered(GaussianFamily):
        def e_step_accumulate(self, X, w, log_weights, params, anchor):
            seen.append(X.shape[0])
            return super().e_step_accumulate(X, w, log_weights, params, anchor)

        def prepare_pass(self, log_weights, params, anchor):
            def chunk(X, w):
                return self.e_step_accumulate(X, w, log_weights, params, anchor)

            return chunk

    sub = Tempered("diag")
    args = (np.log(params.weights), params.components, params.components.means, X, None, row_groups(len(X)))
    assert (family.prepare_groups(*args) is not None) == _kernels.numba_available()  # the base class has it
    assert sub.prepare_groups(*args) is None
    e_pass(ArraySource(X, None, 5000), sub, params)
    assert seen == [5000, 5000, 5000, 5000]


def test_slots_of_statistics_stay_within_their_budget():
    """Many groups of full K D**2 statistics would hold more memory than the chunks in flight."""
    from emix.families.gaussian.grouped import SLOT_BUDGET, slots_fit

    assert slots_fit("full", 16, 64, 16)  # 100k x 64, K=16: 8.4 MiB
    assert not slots_fit("full", 50, 200, 16)  # 16 x 50 x 200**2 x 8 bytes: 256 MB
    assert slots_fit("full", 50, 200, 1)  # one slot: as one chunk's statistics
    assert slots_fit("diag", 50, 200, 16) and 16 * 8 * (50 + 2 * 50 * 200 + 1) <= SLOT_BUDGET
    X = _data(n=40_000)
    params, family = _fitted(X, "full")
    args = (np.log(params.weights), params.components, params.components.means, X, None, row_groups(len(X)))
    assert (family.prepare_groups(*args) is not None) == _kernels.numba_available()
    import emix.families.gaussian.grouped as grouped

    old = grouped.SLOT_BUDGET
    grouped.SLOT_BUDGET = 100  # too small for three slots: the chunks run
    try:
        assert family.prepare_groups(*args) is None
    finally:
        grouped.SLOT_BUDGET = old


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("offset", [0.0, 1e5])
def test_tied_scatter_summed_once_equals_the_scatter_of_every_pass(dtype, weighted, offset):
    """The tied model's groups keep their rows' scatter in the source's memo after the first pass
    with moments; later passes shift it to their own centre (an exact identity) instead of
    summing it again. A later pass, at other parameters, must give what a pass that sums it
    gives, to rounding, also with the rows 1e5 from the origin."""
    X = _data(offset=offset).astype(dtype)
    params, family = _fitted(X, "tied")
    if not _kernels.numba_available():
        return
    w = np.random.default_rng(1).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    source = ArraySource(X, w, 8192)
    first = e_pass(source, family, params, statistics=False)  # no statistics: nothing summed
    assert first.stats is None and not source.memo
    e_pass(source, family, params)
    ((key, (known, known_w)),) = source.memo.items()
    assert key[0] == "tied_scatter" and known.shape == (4, X.shape[1] + 2, X.shape[1])
    total = X.shape[0] if w is None else w.sum()
    assert known_w.sum() == pytest.approx(total, rel=1e-12)
    kept = known.copy()
    rng = np.random.default_rng(3)  # other parameters: other weights, means moved by a unit or so
    moved = dataclasses.replace(
        params.components, means=params.components.means + rng.normal(0, 1.0, params.components.means.shape)
    )
    later_params = MixtureParams(weights=np.array([0.5, 0.3, 0.2]), components=moved)
    with ChunkPool(2) as pool:
        later = e_pass(source, family, later_params, pool=pool)
        fresh = e_pass(ArraySource(X, w, 8192), family, later_params, pool=pool)
    assert np.array_equal(known, kept)  # not summed again
    assert later.log_likelihood == fresh.log_likelihood
    assert np.array_equal(later.stats.nk, fresh.stats.nk) and np.array_equal(later.stats.s1, fresh.stats.s1)
    spread = float(np.abs(X - X.mean(axis=0)).max())
    np.testing.assert_allclose(later.stats.s2, fresh.stats.s2, rtol=1e-12, atol=1e-13 * total * spread**2)
