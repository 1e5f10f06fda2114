"""Degeneracy as mclust defines it: a covariance singular by its test, or an empty component.

With ``reg_covar=0`` EM stops, as mclust does, rather than take a step that
makes a component degenerate; the estimator records the components in
``degenerate_`` and warns once, naming the model, K and the components.
"""

import math
import warnings

import numpy as np
import pytest

import emix
from emix import DegenerateComponentWarning
from emix.families.gaussian import GaussianFamily, GaussianParams, degeneracy

pytestmark = pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")


def collapsing_data():
    """A blob, and three rows at one point far away: a component collapses onto them."""
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(size=(120, 2)), np.repeat([[40.0, 40.0]], 3, axis=0)])


def test_rcond_is_mclusts_test_on_the_factor_diagonal():
    R = np.array([[2.0, 1e-9], [1.0, 0.5]])  # |R_jj| of two components
    rc = degeneracy.rcond(R)
    np.testing.assert_allclose(rc, [1e-9 / 3.0, 0.5 / 2.0])
    assert degeneracy.singular_components(R) == (0,)
    assert degeneracy.RCOND_MIN == pytest.approx(math.sqrt(np.finfo(float).eps))


@pytest.mark.parametrize("model", ["VVV", "EEE", "VVI", "VII", "EII", "VEV", "EVE"])
def test_family_finds_a_singular_covariance(model):
    fam = GaussianFamily(model, reg_covar=0.0)
    k, d = 2, 2
    covs = np.stack([np.eye(d), np.diag([1.0, 1e-20])])
    cov = {
        "VVV": covs,
        "VEV": covs,
        "EVE": covs,
        "EEE": covs[1],
        "VVI": np.array([[1.0, 1.0], [1.0, 1e-20]]),
        "VII": np.array([1.0, 1e-20]),
        "EII": np.array([1e-20, 1e-20]),
    }[model]
    _, pc = fam.model.precision_cholesky(cov)
    params = GaussianParams(means=np.zeros((k, d)), covariances=cov, precisions_cholesky=pc)
    found = fam.singular_components(params)
    expected = {"EEE": (0, 1), "EII": (0, 1)}.get(model, (1,))
    assert found == expected
    fine = GaussianParams(means=np.zeros((k, d)), covariances=cov, precisions_cholesky=pc)
    assert GaussianFamily(model).singular_components(fine) == expected  # the test ignores reg_covar


@pytest.mark.parametrize("model", ["VVV", "VII", "VVI", "VEV", "EVV"])
def test_em_stops_before_a_collapse_and_names_the_component(model):
    X = collapsing_data()
    means = np.array([[0.0, 0.0], [40.0, 40.0]])
    with pytest.warns(DegenerateComponentWarning) as record:
        g = emix.GaussianMixture(
            2, covariance_type=model, reg_covar=0.0, means_init=means, weights_init=[0.9, 0.1],
            precisions_init=None, max_iter=200, random_state=0,
        ).fit(X)  # fmt: skip
    assert g.degenerate_.tolist() == [1]
    text = " ".join(str(w.message) for w in record)
    assert f"covariance_type='{model}'" in text and "n_components=2" in text and "component(s) 1" in text
    assert "Set reg_covar > 0" in text  # the fix, for reg_covar = 0
    h = g.history_
    assert np.isfinite(h).all() and np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1]))


def test_no_degeneracy_with_reg_covar_or_well_posed_data():
    X = collapsing_data()
    means = np.array([[0.0, 0.0], [40.0, 40.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateComponentWarning)
        g = emix.GaussianMixture(2, means_init=means, reg_covar=1e-6, random_state=0).fit(X)
        assert g.degenerate_.size == 0
        h = emix.GaussianMixture(2, reg_covar=0.0, random_state=0).fit(emix.datasets.load_faithful())
        assert h.degenerate_.size == 0


def test_degenerate_is_read_again_from_a_model_file(tmp_path):
    X = collapsing_data()
    means = np.array([[0.0, 0.0], [40.0, 40.0]])
    with pytest.warns(DegenerateComponentWarning):
        g = emix.GaussianMixture(2, reg_covar=0.0, means_init=means, random_state=0).fit(X)
    assert g.degenerate_.tolist() == [1]
    g.save(tmp_path / "g.emix")
    back = emix.load(tmp_path / "g.emix")
    # the file does not say how EM ended; its parameters (the last good ones: EM stopped before
    # the collapse) are tested again, and they pass
    assert back.degenerate_.size == 0


def test_select_reports_degenerate_cells_as_na_with_the_reason():
    X = collapsing_data()
    with pytest.warns(emix.selection.SelectionWarning, match="NA"):
        res = emix.select(X, n_components=[1, 2, 3], models=["VVV", "VII"], n_jobs=1)
    na = res.na
    assert na and all(r.degenerate and "degenerate" in r.message for r in na)
    assert all(math.isnan(r.bic) and math.isnan(r.icl) and math.isnan(r.aic) for r in na)
    assert (res.best_model, res.best_n_components) not in {(r.model, r.n_components) for r in na}
    assert all(math.isfinite(r.bic) for r in res.top(100))
    assert "NA" in res.format_table() and "NA" in repr(res)


def test_the_fix_for_a_degenerate_fit_with_reg_covar_says_raise_it():
    from emix.estimators.degeneracy import message

    g = emix.GaussianMixture(2, reg_covar=1e-6)
    assert "Raise reg_covar (now 1e-06)" in message(g, (1,), refused=False)
    assert "Set reg_covar > 0" in message(emix.GaussianMixture(2, reg_covar=0.0), (1,), refused=False)
