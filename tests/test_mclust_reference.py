"""The mclust reference kit parses, is self-consistent, and matches emix.datasets.

These tests need no R: they read the tables that ``make_reference.R`` wrote.
They check the kit itself (and the bundled data); comparisons of emix's fits
with mclust's cells are for the tests of the algorithms.
"""

import math

import numpy as np
import pytest
from mclust_reference import G_GRID, MODELS, MODELS_1D, REFERENCE_DIR, load, mclust_model, names
from scipy.stats import multivariate_normal

from emix import datasets
from emix.families.gaussian import COVARIANCE_MODELS
from emix.selection import information_criteria

NAMES = ("faithful", "iris", "diabetes", "galaxies", "banknote", "wreath")

# loader, shape, has labels
LOADERS = {
    "faithful": (datasets.load_faithful, (272, 2), False),
    "iris": (datasets.load_iris, (150, 4), True),
    "diabetes": (datasets.load_diabetes, (145, 3), True),
    "galaxies": (datasets.load_galaxies, (82, 1), False),
    "banknote": (datasets.load_banknote, (200, 6), True),
    "wreath": (datasets.load_wreath, (1000, 2), False),
}


def test_kit_lists_the_data_sets():
    assert names() == NAMES
    for name in NAMES:
        assert (REFERENCE_DIR / f"{name}.csv").is_file()
    assert (REFERENCE_DIR / "make_reference.R").is_file()
    assert (REFERENCE_DIR / "README.md").is_file()


def test_kit_is_small():
    total = sum(p.stat().st_size for p in REFERENCE_DIR.iterdir())
    assert total < 400_000


@pytest.mark.parametrize("name", NAMES)
def test_emix_bundles_the_rows_mclust_used(name):
    loader, shape, labelled = LOADERS[name]
    ref = load(name)
    X = loader()
    assert X.shape == shape == ref.X.shape
    assert X.dtype == np.float64
    np.testing.assert_array_equal(X, ref.X)
    if labelled:
        X2, y = loader(return_labels=True)
        np.testing.assert_array_equal(X2, ref.X)
        assert y.shape == (shape[0],)
        np.testing.assert_array_equal(y, ref.labels)
    else:
        assert ref.labels is None


def test_labels_and_columns():
    assert datasets.IRIS_COLUMNS == load("iris").columns
    assert datasets.DIABETES_COLUMNS == load("diabetes").columns
    assert datasets.BANKNOTE_COLUMNS == load("banknote").columns
    assert datasets.FAITHFUL_COLUMNS == load("faithful").columns
    assert datasets.GALAXIES_COLUMNS == load("galaxies").columns
    assert datasets.WREATH_COLUMNS == load("wreath").columns
    _, y = datasets.load_iris(return_labels=True)
    assert dict(zip(*np.unique(y, return_counts=True), strict=True)) == {
        "setosa": 50,
        "versicolor": 50,
        "virginica": 50,
    }
    _, y = datasets.load_diabetes(return_labels=True)
    assert dict(zip(*np.unique(y, return_counts=True), strict=True)) == {
        "Normal": 76,
        "Chemical": 36,
        "Overt": 33,
    }
    _, y = datasets.load_banknote(return_labels=True)
    assert sorted(set(y)) == ["counterfeit", "genuine"]


def test_galaxies_are_in_thousands_of_km_per_s():
    X = datasets.load_galaxies()
    assert X[0, 0] == 9.172 and X.max() < 40  # MASS's 9172 km/s / 1000


@pytest.mark.parametrize("name", NAMES)
def test_grid_has_every_cell_once(name):
    ref = load(name)
    models = MODELS_1D if ref.d == 1 else MODELS
    assert ref.models == models
    assert set(ref.cells) == {(m, g) for m in models for g in G_GRID}
    assert len(ref.cells) == len(models) * 9


@pytest.mark.parametrize("name", NAMES)
def test_cells_are_consistent(name):
    ref = load(name)
    n = ref.n
    for (m, g), c in ref.cells.items():
        assert c.model == m and c.G == g
        if c.na:
            assert math.isnan(c.bic) and math.isnan(c.loglik) and math.isnan(c.icl)
            assert c.rc != 0
            continue
        assert c.rc in (0, 1)
        assert np.isfinite([c.bic, c.loglik, c.icl]).all()
        # mclust's sign: BIC = 2 log L - df log n, and ICL <= BIC
        assert c.bic == pytest.approx(2 * c.loglik - c.df * math.log(n), rel=1e-12)
        assert c.icl <= c.bic + 1e-9 * abs(c.bic)
        # emix's criteria in the same sign give the same number
        crit = information_criteria(c.loglik, c.df, n)
        assert crit["bic"] == pytest.approx(c.bic, rel=1e-12)
        if g == 1:
            assert c.icl == pytest.approx(c.bic, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_emix_counts_parameters_as_mclust(name):
    ref = load(name)
    d = ref.d
    for m in MODELS:
        for g in G_GRID:
            p = COVARIANCE_MODELS[m]().n_parameters(g, d) + g * d + g - 1
            assert p == ref.cell(m, g).df, (m, g)


def test_mclust_model_names_in_1d():
    assert mclust_model("VEV", 1) == "V"
    assert mclust_model("EII", 1) == "E"
    assert mclust_model("VEV", 2) == "VEV"
    assert load("galaxies").cell("VVV", 4) is load("galaxies").cells["V", 4]


@pytest.mark.parametrize("name", NAMES)
def test_top_three_are_the_grids_best(name):
    ref = load(name)
    for top, field in ((ref.top_bic, "bic"), (ref.top_icl, "icl")):
        assert len(top) == 3
        finite = sorted(((getattr(c, field), key) for key, c in ref.cells.items() if not c.na), reverse=True)
        assert [key for _, key in finite[:3]] == [(m, g) for m, g, _ in top]
        for m, g, v in top:
            assert v == getattr(ref.cells[m, g], field)


def test_mclust_chooses_the_known_models():
    assert load("faithful").best_bic == ("EEE", 3)
    assert load("iris").best_bic == ("VEV", 2)
    assert load("diabetes").best_bic == ("VVV", 3)
    assert load("galaxies").best_bic == ("V", 4)


@pytest.mark.parametrize("name", NAMES)
def test_starts_are_partitions(name):
    ref = load(name)
    for g in G_GRID:
        z = ref.starts[g]
        assert z.shape == (ref.n,)
        assert set(np.unique(z)) == set(range(1, g + 1))
    if ref.init.startswith("hc"):
        # one tree cut at each G: every partition refines the one with G - 1
        for g in G_GRID[1:]:
            pairs = set(zip(ref.starts[g], ref.starts[g - 1], strict=True))
            assert len(pairs) == g
    else:
        assert ref.d == 1 and ref.init == "qclass"


@pytest.mark.parametrize("name", NAMES)
def test_fits_reproduce_their_loglik(name):
    ref = load(name)
    assert ref.best_bic in ref.fits
    for (m, g), fit in ref.fits.items():
        cell = ref.cells[m, g]
        assert fit.loglik == pytest.approx(cell.loglik, rel=1e-8)
        assert fit.df == cell.df
        assert fit.weights.sum() == pytest.approx(1.0)
        assert fit.sizes.sum() == ref.n
        assert np.allclose(fit.covariances, fit.covariances.transpose(0, 2, 1))
        dens = sum(
            w * multivariate_normal(mu, cov).pdf(ref.X)
            for w, mu, cov in zip(fit.weights, fit.means, fit.covariances, strict=True)
        )
        # mclust's loglik is that of the last E-step; for the closed-form
        # models the parameters are those of the M-step after it, a step
        # further up (within EM's relative tolerance 1e-5)
        gain = np.log(dens).sum() - fit.loglik
        assert -1e-9 * abs(fit.loglik) <= gain <= 1e-5 * abs(fit.loglik)


def test_timings_are_recorded():
    for name in NAMES:
        t = load(name).timing
        assert float(t["elapsed_median_s"]) > 0
        assert t["mclust_version"] and t["r_version"]
        assert int(t["runs"]) >= 1
