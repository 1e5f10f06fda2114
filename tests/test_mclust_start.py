"""mclust's start, reproduced: the hierarchical partitions and quantile classes of ``starts.csv``.

``starts.csv`` holds the partitions ``mclustBIC`` starts EM from, for G = 1..9:
``hclass(hc(X, "VVV", use = "SVD"), G)`` for multivariate data and
``qclass(x, G)`` for galaxies (1-D). emix's :func:`emix.init.mclust_partition`
must give the same partitions (adjusted Rand index 1.0: equal up to the
numbering of the classes).
"""

import numpy as np
import pytest
from mclust_reference import load

import emix
from emix import init
from emix.init.hierarchical import cut_tree, hierarchical_merges, svd_transform

MULTI = ("faithful", "iris", "diabetes", "banknote", "wreath")


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to the numbering of the classes (adjusted Rand index 1)."""
    pairs = {(int(x), int(y)) for x, y in zip(a, b, strict=True)}
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("name", MULTI)
def test_hierarchical_partitions_equal_mclusts(name):
    ref = load(name)
    for g in range(1, 10):
        labels = init.mclust_partition(ref.X, g)
        assert same_partition(labels, ref.starts[g]), (name, g)
        # numbered in order of first appearance, as hclass numbers them
        np.testing.assert_array_equal(labels + 1, ref.starts[g])


def test_quantile_classes_equal_mclusts():
    ref = load("galaxies")
    for g in range(1, 10):
        np.testing.assert_array_equal(init.qclass(ref.X, g) + 1, ref.starts[g])


def test_qclass_with_ties_and_few_values():
    x = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 4.0, 4.0])
    labels = init.qclass(x, 3)
    assert sorted(set(labels.tolist())) == [0, 1, 2]
    assert np.all(np.diff(labels[np.argsort(x, kind="stable")]) >= 0)  # classes follow x
    # fewer distinct values than classes: no loop forever, classes follow x
    labels = init.qclass(np.array([0.0, 0.0, 1.0, 1.0]), 3)
    assert labels.shape == (4,) and labels[0] == labels[1] and labels[2] == labels[3]


def test_svd_transform_is_mclusts():
    X = load("iris").X
    Z = svd_transform(X)
    # scaled principal components of the standardised data: Z^T Z = diag(singular values)
    s = np.linalg.svd((X - X.mean(0)) / X.std(0, ddof=1), compute_uv=False)
    np.testing.assert_allclose(Z.T @ Z, np.diag(s), atol=1e-10)
    # a constant column is dropped
    Xc = np.column_stack([X, np.ones(X.shape[0])])
    np.testing.assert_allclose(np.abs(svd_transform(Xc)), np.abs(Z), atol=1e-10)


def test_duplicated_rows_merge_first_and_ties_break_like_mclust():
    # faithful has duplicated rows: every pair of them costs -2 log 2, the least a pair can
    # cost, and mclust merges the pair that comes last in its order (j major, then i)
    ref = load("faithful")
    merges, costs = hierarchical_merges(ref.X, return_costs=True)
    assert costs[0] == pytest.approx(-2 * np.log(2), abs=1e-12)
    X = ref.X
    dup_pairs = [(i, j) for j in range(ref.n) for i in range(j) if (X[i] == X[j]).all()]
    assert len(dup_pairs) > 5
    last = max(dup_pairs, key=lambda ij: (ij[1], ij[0]))
    assert tuple(sorted(merges[0])) == last == (182, 263)  # rows 183 and 264, as mclust's hc


def test_cut_tree_matches_cut_merges():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (40, 2)), rng.normal(8, 1, (30, 2))])
    merges = hierarchical_merges(X)
    cuts = cut_tree(merges, 70, [1, 2, 5, 70])
    for k, labels in cuts.items():
        np.testing.assert_array_equal(labels, init.cut_merges(merges, 70, k))
        assert sorted(np.unique(labels)) == list(range(k))


def test_fit_starts_from_mclusts_partition():
    ref = load("iris")
    g = emix.GaussianMixture(3, covariance_type="VEV", init_params="hierarchical", reg_covar=0, max_iter=0)
    g.fit(ref.X)
    # max_iter=0: the parameters are the M-step of the hard partition
    labels = ref.starts[3] - 1
    for k in range(3):
        rows = ref.X[labels == k]
        match = np.isclose(g.means_, rows.mean(axis=0)).all(axis=1)
        assert match.any()
        assert g.weights_[np.flatnonzero(match)[0]] == pytest.approx(rows.shape[0] / ref.n)


def test_large_data_start_is_the_models_m_step_on_a_subset():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(0, 1, (1500, 2)), rng.normal(6, 1, (1200, 2))])
    assert X.shape[0] > init.HC_SUBSET
    g = emix.GaussianMixture(2, init_params="hierarchical", random_state=0, max_iter=0).fit(X)
    # the start is built from 2000 rows: its weights are those of the subset's partition
    assert sorted(np.round(g.weights_, 1)) == [0.4, 0.6]
    ini = init.hierarchical_initialiser(g._source(X), 2, np.random.default_rng(0), subset=300)
    assert ini.subset.shape == (300, 2)
    resp = ini.resp_fn(ini.subset, 0)
    np.testing.assert_array_equal(resp.sum(axis=1), 1.0)


def test_the_cache_can_be_cleared():
    ref = load("diabetes")
    first = init.mclust_partition(ref.X, 4)
    init.clear_cache()
    np.testing.assert_array_equal(init.mclust_partition(ref.X, 4), first)
