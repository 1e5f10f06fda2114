"""Model selection by BIC / ICL, and the hierarchical initialisation."""

import os

import numpy as np
import pytest

import emix
from emix.init import cut_merges, hierarchical_merges
from emix.selection import information_criteria

FAITHFUL = emix.datasets.load_faithful()


def test_select_faithful_picks_eee_3_like_mclust():
    res = emix.select(
        FAITHFUL, n_components=range(1, 5), models=["EII", "VVI", "EEE", "VVV", "EEV"], n_jobs=1
    )
    assert (res.best_model, res.best_n_components) == ("EEE", 3)
    best = res.best
    assert best.n_parameters == 11
    # mclust 6.1.3: BIC -2314.316, logL -1126.326 at its default tolerance (-1126.315928 converged)
    assert best.bic == pytest.approx(-2314.316, abs=0.05)
    assert best.log_likelihood == pytest.approx(-1126.316, abs=0.02)
    assert best.icl <= best.bic
    assert res.best_estimator.init_used_ == "hierarchical"
    # table sign is mclust's; the estimator's bic() is scikit-learn's
    assert best.bic == pytest.approx(-res.best_estimator.bic(FAITHFUL), rel=1e-10)
    assert res.table().shape == (4, 5)
    assert "EEE" in res.format_table()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("EMIX_SLOW") != "1", reason="slow: set EMIX_SLOW=1")
def test_select_faithful_full_grid_in_parallel():
    res = emix.select(FAITHFUL, n_jobs=2)
    assert (res.best_model, res.best_n_components) == ("EEE", 3)
    assert res.table().shape == (9, 14)
    assert np.isfinite(res.table()).all()


def test_select_parallel_equals_serial():
    kw = dict(n_components=[1, 2, 3], models=["EII", "EEE"])
    a = emix.select(FAITHFUL, n_jobs=1, **kw)
    b = emix.select(FAITHFUL, n_jobs=2, **kw)
    np.testing.assert_allclose(a.table(), b.table())


def test_information_criteria_formulas():
    crit = information_criteria(-100.0, 5, 50, np.array([[1.0, 0.0], [0.5, 0.5]]))
    assert crit["bic"] == pytest.approx(-200.0 - 5 * np.log(50))
    assert crit["aic"] == pytest.approx(-210.0)
    assert crit["icl"] == pytest.approx(crit["bic"] + 2 * np.log(0.5))


def test_to_frame_and_records():
    res = emix.select(FAITHFUL, n_components=[1, 2], models=["VII", "EEE"], n_jobs=1)
    recs = res.to_records()
    assert len(recs) == 4 and {"model", "n_components", "bic", "icl", "aic"} <= set(recs[0])
    frame = res.to_frame()
    assert list(frame["model"]) == ["VII", "VII", "EEE", "EEE"]


def test_select_rejects_unknown_model_and_criterion():
    with pytest.raises(emix.InvalidParameterError, match="unknown model 'XYZ'"):
        emix.select(FAITHFUL, models=["XYZ"])
    with pytest.raises(emix.InvalidParameterError, match="criterion must be one of"):
        emix.select(FAITHFUL, criterion="mdl")


def test_degenerate_fit_is_na_and_not_chosen():
    # 6 points in 2-D: VVV with 3 components has pairs of points -> singular covariances
    X = np.array([[0.0, 0.0], [1.0, 0.1], [5.0, 5.0], [6.0, 5.2], [10.0, 0.0], [11.0, 0.3]])
    with pytest.warns(emix.EmixWarning, match=r"1 of 2 fits are NA"):  # select says so (SelectionWarning)
        res = emix.select(X, n_components=[1, 3], models=["VVV"], n_jobs=1)
    rec = res.record("VVV", 3)
    assert rec.degenerate and np.isnan(rec.bic)
    assert res.best_n_components == 1


# -- hierarchical initialisation -------------------------------------------------------------


@pytest.mark.parametrize("model", ["VVV", "EII"])
def test_hierarchical_merges_partition(model):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (40, 2)), rng.normal(8, 1, (30, 2))])
    merges = hierarchical_merges(X, model)
    assert merges.shape == (69, 2)
    for k in (1, 2, 5, 70):
        labels = cut_merges(merges, 70, k)
        assert sorted(np.unique(labels)) == list(range(k))
    two = cut_merges(merges, 70, 2)
    assert len(set(two[:40])) == 1 and len(set(two[40:])) == 1 and two[0] != two[-1]


def test_hierarchical_init_independent_of_chunks_and_subset_path():
    # plain EM: with accelerate=True one chunk runs compiled plain EM (issue 15), chunks run
    # SQUAREM, and on this ridge the two stop 1e-5 apart in the means
    kw = dict(covariance_type="EEE", init_params="hierarchical", accelerate=False)
    a = emix.GaussianMixture(3, chunk_size=50, **kw).fit(FAITHFUL)
    b = emix.GaussianMixture(3, **kw).fit(FAITHFUL)
    np.testing.assert_allclose(a.means_, b.means_)
    # large data: the tree is built on a random subset, then every row gets a soft posterior
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(0, 1, (1500, 2)), rng.normal(6, 1, (1200, 2))])
    from emix import init

    assert X.shape[0] > init.HC_SUBSET
    g = emix.GaussianMixture(2, init_params="hierarchical", random_state=0)
    ini = init.hierarchical_initialiser(g._source(X), 2, np.random.default_rng(0), subset=300)
    resp = ini.resp_fn(X[:100], 0)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)
    g.fit(X)
    assert sorted(np.round(g.weights_, 1)) == [0.4, 0.6]


def test_init_used_attribute():
    g = emix.GaussianMixture(2, random_state=0).fit(FAITHFUL)
    assert g.init_used_ == "kmeans"
    X, init = emix.datasets.load_lecture_example(return_init=True)
    h = emix.GaussianMixture(2, **init).fit(X)
    assert h.init_used_ == "user"
