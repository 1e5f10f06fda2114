"""A Student-t mixture's default start is not captured by a clump of gross outliers (issue 12)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import emix
from emix.init import make_initialiser, start_plan
from emix.sources import ArraySource

TRUTH = np.array([[0.0, 0.0], [8.0, 0.0]])


def _with_outliers(seed=0, n=1000, where=100.0):
    """Two unit clusters 8 apart and 20 identical gross outliers."""
    rng = np.random.default_rng(seed)
    clusters = np.r_[rng.standard_normal((n, 2)), rng.standard_normal((n, 2)) + TRUTH[1]]
    return np.r_[clusters, np.full((20, 2), where)]


def _fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return emix.StudentMixture(2, random_state=0, **kw).fit(X)


def _error(m):
    order = np.argsort(m.means_[:, 0])
    return float(np.abs(m.means_[order] - TRUTH).max())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_start_finds_the_robust_fit_that_k_means_misses(seed):
    X = _with_outliers(seed)
    kmeans = _fit(X, init_params="kmeans")
    assert np.abs(kmeans.means_ - 100.0).max(axis=1).min() < 1e-3  # k-means gives the outliers a component
    default = _fit(X)
    assert _error(default) < 0.15, default.means_
    assert default.init_used_ == "trimmed-kmeans"
    assert default.log_likelihood_ > kmeans.log_likelihood_ + 100  # and it is the more likely fit
    np.testing.assert_allclose(default.weights_, 0.5, atol=0.02)  # the outliers belong to no component


def test_default_keeps_k_means_where_it_is_more_likely():
    rng = np.random.default_rng(3)  # a small third group: trimming would leave it out
    X = np.r_[rng.standard_normal((500, 2)), rng.standard_normal((30, 2)) * 0.3 + [12.0, 12.0]]
    default, kmeans = _fit(X), _fit(X, init_params="kmeans")
    assert default.log_likelihood_ >= kmeans.log_likelihood_
    assert np.abs(default.means_ - [12.0, 12.0]).max(axis=1).min() < 0.3


def test_every_start_of_the_plan_is_run_and_the_best_kept():
    X = _with_outliers(0, n=300)
    both = _fit(X, init_params=("kmeans", "trimmed-kmeans"), n_init=2)
    each = [_fit(X, init_params=name, n_init=1) for name in ("kmeans", "trimmed-kmeans")]
    assert both.log_likelihood_ >= max(m.log_likelihood_ for m in each) - 1e-6


def test_trimmed_start_does_not_depend_on_the_chunking():
    X = _with_outliers(4, n=3000)  # more rows than the sample: rows are drawn
    starts = []
    for chunk in (X.shape[0], 997, 64):
        init = make_initialiser("trimmed-kmeans", ArraySource(X, None, chunk), 2, np.random.default_rng(7))
        starts.append((init.centres, init.subset))
    for centres, subset in starts[1:]:
        np.testing.assert_array_equal(centres, starts[0][0])
        np.testing.assert_array_equal(subset, starts[0][1])
    centres, subset = starts[0]
    assert 3000 < subset.shape[0] < 4000  # about 4000 sampled, 10 % of them left out
    assert not np.any(np.all(subset == 100.0, axis=1))  # no outlier is kept
    np.testing.assert_allclose(np.sort(centres[:, 0]), [0.0, 8.0], atol=0.15)


def test_init_params_names_are_checked():
    assert start_plan("k-means++") == ("k-means++",)
    assert start_plan(["kmeans", "random"]) == ("kmeans", "random")
    for bad in ("kmeans+random", (), ("kmeans", 3)):
        with pytest.raises(emix.InvalidParameterError, match="init_params must be one of"):
            emix.StudentMixture(2, init_params=bad).fit(_with_outliers(0, n=50))


def test_the_default_plan_survives_a_model_file(tmp_path):
    m = _fit(_with_outliers(0, n=200))
    m.save(tmp_path / "t.emix")
    back = emix.load(tmp_path / "t.emix")
    assert back.get_params()["init_params"] == ("kmeans", "trimmed-kmeans")
    np.testing.assert_array_equal(back.means_, m.means_)


def test_the_command_line_uses_the_estimators_default_start():
    from emix.cli.fit_options import EstimatorSettings, Family

    common = dict(n_components=2, covariance="full", tol=1e-3, reg_covar=1e-6, max_iter=10, n_init=1, seed=0)
    student = EstimatorSettings(family=Family.student, init="default", **common).build()
    assert student.init_params == ("kmeans", "trimmed-kmeans")
    chosen = EstimatorSettings(family=Family.gaussian, init="random", **common).build()
    assert chosen.init_params == "random"


def test_the_numbers_on_the_families_page():
    X = _with_outliers(0)
    kmeans, default = _fit(X, init_params="kmeans"), _fit(X)
    assert kmeans.log_likelihood_ == pytest.approx(-8381.9, abs=0.05)
    np.testing.assert_allclose(np.sort(kmeans.means_[:, 0]), [4.0, 100.0], atol=0.05)
    assert default.log_likelihood_ == pytest.approx(-7632.8, abs=0.05)


def test_the_likelihood_decides_even_for_the_outliers_component():
    rng = np.random.default_rng(1)  # closer outliers, fewer rows: their spike of a component wins
    X = np.r_[
        rng.standard_normal((500, 2)), rng.standard_normal((500, 2)) + [6.0, 0.0], np.full((20, 2), 30.0)
    ]
    default = _fit(X)
    trimmed = _fit(X, init_params="trimmed-kmeans")
    assert np.abs(default.means_ - 30.0).max(axis=1).min() < 1e-3
    assert default.log_likelihood_ > trimmed.log_likelihood_
