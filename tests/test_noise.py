"""The noise component (mclust's): against mclust's tables (make_noise.R), and its invariants."""

import csv
import warnings

import numpy as np
import pytest
from mclust_reference import REFERENCE_DIR
from scipy.optimize import linear_sum_assignment

import emix
from emix.exceptions import InvalidInputError, InvalidParameterError
from emix.families import PoissonFamily
from emix.families.noise import NoiseFamily
from emix.families.noise_volume import box_of_array, box_of_source
from emix.sources import ArraySource, NpySource


def _read(name):
    with open(REFERENCE_DIR / name, newline="") as fh:
        return list(csv.DictReader(fh))


DATA = _read("noise_data.csv")
TABLE = _read("noise_bic.csv")
VOLUMES = {r["dataset"]: r for r in _read("noise_volume.csv")}
BEST = {r["dataset"]: r for r in _read("noise_best.csv")}


def dataset(name):
    rows = [r for r in DATA if r["dataset"] == name]
    X = np.array([[float(r[f"x{j}"]) for j in range(1, 5) if r[f"x{j}"] != "NA"] for r in rows])
    return X, np.array([r["noise"] == "TRUE" for r in rows])


def mclust_like(k, model, mask, **kw):
    """GaussianMixture as mclustBIC fits a cell with a noise guess (mclust's start and rule)."""
    return emix.GaussianMixture(
        k,
        covariance_type=model,
        noise=True,
        noise_init=mask,
        init_params="hierarchical",
        reg_covar=0.0,
        convergence="mclust",
        tol=1e-5,
        max_iter=2**31 - 1,
        accelerate=False,
        **kw,
    )


@pytest.mark.parametrize("name", sorted(VOLUMES))
def test_volume_is_mclust_hypvol(name):
    X, _ = dataset(name)
    ref = VOLUMES[name]
    assert box_of_array(X).volume == pytest.approx(float(ref["hypvol"]), rel=1e-12)
    assert box_of_source(ArraySource(X, None, 37)).volume == pytest.approx(float(ref["hypvol"]), rel=1e-12)
    # the two candidates: which one is smaller differs between the data sets
    assert float(ref["hypvol"]) == min(float(ref["box"]), float(ref["pc_box"]))


# every model at G = 3 on one data set, and a spread of cells on the others
CELLS = [r for r in TABLE if r["dataset"] == "clusters2d" and r["G"] == "3"] + [
    r
    for r in TABLE
    if r["dataset"] != "clusters2d" and r["model"] in ("EII", "VVI", "EEE", "VEV", "VVV") and r["G"] in "24"
]


@pytest.mark.parametrize("row", CELLS, ids=lambda r: f"{r['dataset']}-{r['model']}-{r['G']}")
def test_noise_matches_mclust(row):
    X, mask = dataset(row["dataset"])
    k, model = int(row["G"]), row["model"]
    g = mclust_like(k, model, mask)
    with warnings.catch_warnings():
        warnings.simplefilter("error", emix.ConvergenceWarning)
        g.fit(X)
    ll, n = float(row["loglik"]), X.shape[0]
    # mclust stops at a relative change of 1e-5 of its log-likelihood; from the same start emix's
    # run ends at most that far off, and in every cell of the table not lower
    assert g.log_likelihood_ >= ll - 1e-9 * abs(ll)
    assert g.log_likelihood_ - ll <= 1e-5 * abs(ll)
    assert g._n_parameters() == int(row["df"])  # K - 1 weights, the noise weight and the volume
    assert -g.bic(X) == pytest.approx(2 * g.log_likelihood_ - int(row["df"]) * np.log(n), rel=1e-12)
    assert -g.bic(X) - float(row["bic"]) == pytest.approx(2 * (g.log_likelihood_ - ll), abs=1e-6)
    assert g.noise_weight_ == pytest.approx(float(row["noise_pro"]), abs=5e-3)
    assert float(g.noise_volume_) == pytest.approx(float(VOLUMES[row["dataset"]]["hypvol"]), rel=1e-12)
    d = X.shape[1]
    means = np.array([[float(row[f"mean_{j}_{i}"]) for i in range(1, d + 1)] for j in range(1, k + 1)])
    a, b = linear_sum_assignment(((g.means_[:, None] - means[None]) ** 2).sum(-1))
    assert np.max(np.abs(g.means_[a] - means[b]) / X.std(axis=0)) < 2e-2
    assert g.weights_.sum() + g.noise_weight_ == pytest.approx(1.0, abs=1e-12)


def test_select_with_noise_chooses_as_mclust():
    X, mask = dataset("clusters2d")
    best = BEST["clusters2d"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = emix.select(X, range(1, 5), models=["EII", "EEE", "EEV", "VVV"], noise=True, noise_init=mask)
    assert (res.best_model, res.best_n_components) == (best["model"], int(best["G"]))
    assert res.best.bic == pytest.approx(float(best["bic"]), abs=2e-5 * abs(float(best["bic"])))
    assert res.best.n_parameters == 15
    icl = [r for r in TABLE if r["dataset"] == "clusters2d" and r["model"] == "EEV" and r["G"] == "3"][0]
    # ICL's entropy term is not stationary at the optimum, as the likelihood is: the few steps emix
    # takes past mclust's stop move it by 0.15 here (the BIC by 0.002)
    assert res.best.icl == pytest.approx(float(icl["icl"]), abs=1e-4 * abs(float(icl["icl"])))
    assert res.best_estimator.noise_weight_ == pytest.approx(float(best["noise_pro"]), abs=5e-3)


def test_noise_history_never_drops_and_densities_add_up():
    X, mask = dataset("clusters2d")
    g = mclust_like(3, "VVV", mask, rtol=0).fit(X)
    assert np.diff(g.history_).min() >= -1e-9 * abs(g.history_[-1])
    # score_samples is log(sum_k w_k N_k(x) + w_noise / V)
    from scipy.stats import multivariate_normal

    dens = sum(w * multivariate_normal(m, c).pdf(X) for w, m, c in zip(g.weights_, g.means_, g.covariances_))
    dens = dens + g.noise_weight_ / float(g.noise_volume_)
    np.testing.assert_allclose(g.score_samples(X), np.log(dens), rtol=1e-10)
    resp = g.predict_proba(X)
    assert resp.shape == (X.shape[0], 4)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)
    labels = g.predict(X)
    assert set(np.unique(labels)) == {-1, 0, 1, 2}
    np.testing.assert_array_equal(labels == -1, resp.argmax(axis=1) == 3)
    # most of the rows drawn as noise are labelled noise
    assert (labels[mask] == -1).mean() > 0.6 and (labels[~mask] == -1).mean() < 0.05


def test_streamed_and_chunked_equal_in_memory(tmp_path):
    X, mask = dataset("rotated2d")  # the principal-component box: two passes over a source
    kw = dict(covariance_type="full", noise=True, init_params="kmeans", random_state=0, tol=1e-6)
    whole = emix.GaussianMixture(3, **kw).fit(X)
    chunked = emix.GaussianMixture(3, chunk_size=50, **kw).fit(X)
    np.save(tmp_path / "x.npy", X)
    streamed = emix.GaussianMixture(3, **kw).fit(NpySource(tmp_path / "x.npy", chunk_rows=64))
    for other in (chunked, streamed):
        assert other.log_likelihood_ == pytest.approx(whole.log_likelihood_, rel=1e-10)
        np.testing.assert_allclose(other.means_, whole.means_, rtol=1e-8)
        assert other.noise_weight_ == pytest.approx(whole.noise_weight_, rel=1e-8)
        assert float(other.noise_volume_) == pytest.approx(float(whole.noise_volume_), rel=1e-12)
    # with a noise guess, the rows it leaves are gathered for the start
    a = mclust_like(3, "EEV", mask).fit(X)
    b = mclust_like(3, "EEV", mask).fit(NpySource(tmp_path / "x.npy", chunk_rows=64))
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_, rel=1e-10)


def test_save_and_load_keep_the_noise(tmp_path):
    X, mask = dataset("iris4d")
    g = mclust_like(2, "VEV", mask).fit(X)
    g.save(tmp_path / "m.emix")
    back = emix.load(tmp_path / "m.emix")
    assert back.noise_weight_ == g.noise_weight_
    np.testing.assert_array_equal(back.noise_rotation_, g.noise_rotation_)
    np.testing.assert_allclose(back.score_samples(X), g.score_samples(X), rtol=1e-13)
    np.testing.assert_array_equal(back.predict(X), g.predict(X))


def test_sample_draws_noise_rows_in_the_box():
    X, _ = dataset("rotated2d")
    g = emix.GaussianMixture(3, noise=True, random_state=0).fit(X)
    Y, y = g.sample(4000)
    noise = Y[y == -1] @ g.noise_rotation_
    assert abs((y == -1).mean() - g.noise_weight_) < 0.03
    assert (noise >= g.noise_lower_ - 1e-12).all() and (noise <= g.noise_upper_ + 1e-12).all()
    assert set(np.unique(y)) == {-1, 0, 1, 2}


def test_given_volume_and_equal_weights():
    X, mask = dataset("clusters2d")
    g = emix.GaussianMixture(3, noise=500.0, noise_init=mask, equal_weights=True, random_state=0).fit(X)
    assert float(g.noise_volume_) == pytest.approx(500.0)
    np.testing.assert_allclose(g.weights_, (1 - g.noise_weight_) / 3)
    assert 0.05 < g.noise_weight_ < 0.5
    plain = emix.GaussianMixture(3, noise=True, noise_init=mask, random_state=0).fit(X)
    assert plain._n_parameters() - g._n_parameters() == 2  # the K - 1 Gaussian weights are fixed


def test_noise_over_another_family():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.poisson(3, (300, 2)), rng.poisson(20, (200, 2)), rng.integers(0, 60, (60, 2))])
    g = emix.Mixture(2, family=NoiseFamily(PoissonFamily()), random_state=0, tol=1e-8)
    g.fit(X.astype(float))
    assert np.diff(g.history_).min() >= -1e-9 * abs(g.history_[-1])
    assert sorted(np.round(g.rates_.ravel())) == [3.0, 3.0, 20.0, 20.0]
    assert 0.05 < g.noise_weight_ < 0.2


def test_bad_noise_arguments_are_named():
    X, mask = dataset("clusters2d")
    with pytest.raises(InvalidParameterError, match="noise_init must be one flag per row, shape \\(360,\\)"):
        emix.GaussianMixture(2, noise=True, noise_init=mask[:10], init_params="hierarchical").fit(X)
    with pytest.raises(InvalidParameterError, match="positive and finite"):
        emix.GaussianMixture(2, noise=-1.0).fit(X)
    with pytest.raises(InvalidParameterError, match="noise must be True, False or a volume"):
        emix.GaussianMixture(2, noise="yes").fit(X)
    with pytest.raises(InvalidParameterError, match="noise=False: set noise=True"):
        emix.GaussianMixture(2, noise_init=mask).fit(X)
    with pytest.raises(InvalidParameterError, match="strictly between 0 and 1"):
        emix.GaussianMixture(2, noise=True, noise_init=1.5).fit(X)
    with pytest.raises(InvalidParameterError, match="guesses every row as noise"):
        emix.GaussianMixture(2, noise=True, noise_init=np.ones(360, bool)).fit(X)
    bad = mask.astype(float)
    bad[4] = 0.5
    with pytest.raises(InvalidParameterError, match="row 5 \\(counting from 1\\) has 0.5"):
        emix.GaussianMixture(2, noise=True, noise_init=bad).fit(X)
    flat = X.copy()
    flat[:, 1] = 2.0
    with pytest.raises(InvalidInputError, match="no extent along column 2 \\(counting from 1\\)"):
        emix.GaussianMixture(2, noise=True).fit(flat)
    holes = X.copy()
    holes[3, 0] = np.nan
    with pytest.raises(InvalidInputError, match="missing value"):
        emix.GaussianMixture(2, noise=True).fit(holes)


def test_command_line_fit_and_select_with_noise(tmp_path):
    from typer.testing import CliRunner

    from emix.cli import app

    X, _ = dataset("clusters2d")
    path = tmp_path / "c.csv"
    path.write_text("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in X.tolist()))
    runner = CliRunner()
    res = runner.invoke(app, ["fit", str(path), "-k", "3", "--noise", "-o", str(tmp_path / "m.emix")])
    assert res.exit_code == 0, res.output
    assert "noise weight" in res.output
    model = emix.load(tmp_path / "m.emix")
    assert 0.1 < model.noise_weight_ < 0.25 and (model.predict(X) == -1).sum() > 20
    res = runner.invoke(app, ["select", str(path), "-k", "2..3", "-m", "EEV,VVV", "--noise"])
    assert res.exit_code == 0, res.output
    assert "best: EEV, K=3" in res.output
    res = runner.invoke(
        app, ["fit", str(path), "-k", "2", "--noise", "--family", "poisson", "-o", str(tmp_path / "p.emix")]
    )
    assert res.exit_code != 0 and "--noise applies to the gaussian family" in res.output
    flat = tmp_path / "flat.csv"  # no clusters: noise alone (K = 0) is the best, as in mclust's grid
    rows = np.random.default_rng(3).uniform(0, 10, size=(200, 2))
    flat.write_text("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in rows.tolist()))
    res = runner.invoke(app, ["select", str(flat), "-m", "EII", "--noise"])
    assert res.exit_code == 0, res.output
    assert "best: noise alone, K=0" in res.output
    res = runner.invoke(app, ["select", str(flat), "-m", "EII", "--noise", "-o", str(tmp_path / "f.emix")])
    assert res.exit_code != 0 and "noise alone (K = 0)" in res.output


def test_lazy_dask_predictions_have_the_noise_column():
    da = pytest.importorskip("dask.array")
    X = _three_and_noise()
    model = emix.GaussianMixture(2, noise=True, random_state=0).fit(X)
    lazy = model.predict_proba(da.from_array(X, chunks=100))
    assert lazy.shape == (len(X), 3)  # declared before computing: K + 1 columns
    np.testing.assert_allclose(lazy.compute(), model.predict_proba(X), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(model.predict(da.from_array(X, chunks=100)).compute(), model.predict(X))
    assert (model.predict(X) == -1).any()


def _three_and_noise():
    rng = np.random.default_rng(0)
    return np.r_[rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + 6, rng.uniform(-5, 12, size=(60, 2))]


def test_a_checkpointed_fit_with_noise_resumes(tmp_path):
    X = _three_and_noise()
    path = tmp_path / "fit.ckpt"
    first = emix.GaussianMixture(2, noise=True, random_state=0, checkpoint=path).fit(X)
    again = emix.GaussianMixture(2, noise=True, random_state=0, checkpoint=path).fit(X)
    assert again.noise_weight_ == first.noise_weight_
    np.testing.assert_array_equal(again.means_, first.means_)
    np.testing.assert_array_equal(again.predict(X), first.predict(X))


def test_online_fit_with_noise_reaches_the_batch_fit():
    X = _three_and_noise()[np.random.default_rng(1).permutation(660)]
    batch = emix.GaussianMixture(2, noise=True, random_state=0).fit(X)
    online = emix.GaussianMixture(2, noise=True, random_state=0)
    for _ in range(3):
        for start in range(0, len(X), 66):
            online.partial_fit(X[start : start + 66])
    assert abs(online.noise_weight_ - batch.noise_weight_) < 0.03
    assert batch.score(X) - online.score(X) < 0.02


def _prior_noise_cells():
    with open(REFERENCE_DIR / "prior_noise_bic.csv", newline="") as f:
        return [(r["dataset"], r["model"], int(r["G"]), float(r["bic"])) for r in csv.DictReader(f)]


@pytest.mark.parametrize("name, model, k, bic", _prior_noise_cells(), ids=lambda v: str(v))
def test_a_prior_and_noise_together_match_mclust(name, model, k, bic):
    """mclustBIC(X, prior = priorControl(), initialization = list(noise = guess)), make_prior_noise.R.

    mclust stops at a relative change of 1e-5 and emix one EM step later, as for the plain
    models, so the BIC agrees to that order (measured: at most 2e-5 relative)."""
    X, mask = dataset(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = mclust_like(k, model, mask, prior="default").fit(X)
    assert -g.bic(X) == pytest.approx(bic, rel=1e-4)
    assert np.diff(g.history_).min() >= -1e-9 * abs(g.history_[-1])  # monotone in log L + log prior
    assert g.log_likelihood_ == pytest.approx(g.score(X) * len(X), rel=1e-12)


@pytest.mark.parametrize("name", ["clusters2d", "rotated2d", "iris4d"])
def test_select_has_mclusts_row_of_noise_alone(name):
    """K = 0 is mclust's row G = 0: log L = -n log V (hypvol), one parameter, ICL = BIC."""
    X, mask = dataset(name)
    result = emix.select(X, [0, 1], models=["EII", "VVV"], noise=True, noise_init=mask, n_jobs=1)
    for model in ("EII", "VVV"):
        alone = result.record(model, 0)
        assert alone.bic == pytest.approx(float(BEST[name]["bic_G0"]), rel=1e-12)
        assert alone.icl == alone.bic and alone.n_parameters == 1
    assert result.best_n_components >= 1 and result.best_estimator is not None


def test_noise_alone_can_be_the_best_and_the_default_grid_has_it():
    X = np.random.default_rng(3).uniform(0, 10, size=(200, 2))  # no clusters at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = emix.select(X, models=["EII", "VVV"], noise=True, n_jobs=1)
    assert result.n_components == tuple(range(10))  # mclust's default grid with noise: 0..9
    assert (result.best_n_components, result.best_estimator) == (0, None)
    assert result.best.log_likelihood == pytest.approx(-200 * np.log(_box_volume(X)), rel=1e-12)
    with pytest.raises(InvalidParameterError, match=r"noise alone, needs noise=True"):
        emix.select(X, [0, 1], models=["EII"], n_jobs=1)


def _box_volume(X):
    return box_of_array(X).volume
