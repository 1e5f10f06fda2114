"""``emix fit --bayesian / --equal-weights``, ``emix bootstrap``, and the pictures of uncertainty."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import emix
from emix.cli import app
from emix.teach.plot import plot_intervals, plot_posterior_weights, save_figure


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("unc")
    path = d / "faithful.csv"
    pd.DataFrame(emix.datasets.load_faithful(), columns=["eruptions", "waiting"]).to_csv(path, index=False)
    return path


def _png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_fit_bayesian_reports_the_elbo_and_draws_the_weights(runner, csv_path, tmp_path):
    res = run(runner, "fit", csv_path, "-k", 6, "--bayesian", "-o", tmp_path / "vb.emix",
              "--plot-weights", tmp_path / "w.png")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "ELBO" in res.output and "components used" in res.output and "BIC" not in res.output
    model = emix.load(tmp_path / "vb.emix")
    assert isinstance(model, emix.BayesianGaussianMixture)
    assert int((model.weights_ > 0.01).sum()) < 6
    _png(tmp_path / "w.png")


def test_fit_equal_weights(runner, csv_path, tmp_path):
    res = run(
        runner, "fit", csv_path, "-k", 3, "--covariance", "EEE", "--equal-weights", "-o", tmp_path / "e.emix"
    )
    assert res.exit_code == 0, res.output
    model = emix.load(tmp_path / "e.emix")
    np.testing.assert_array_equal(model.weights_, np.full(3, 1 / 3))
    assert model._n_parameters() == 9


@pytest.mark.parametrize(
    "args,message",
    [
        (["--bayesian", "--equal-weights"], "exclude each other"),
        (["--bayesian", "--covariance", "VEV"], "--bayesian takes --covariance"),
        (["--bayesian", "--family", "poisson"], "--bayesian fits Gaussian mixtures"),
        (["--plot-weights", "w.png"], "add --bayesian"),
    ],
)
def test_fit_refuses_bad_combinations(runner, csv_path, tmp_path, args, message):
    res = runner.invoke(app, ["fit", str(csv_path), "-k", "2", "-o", str(tmp_path / "x.emix"), *args])
    assert res.exit_code != 0
    assert message in res.output


def test_bootstrap_command_prints_the_table_and_the_picture(runner, csv_path, tmp_path):
    model = tmp_path / "m.emix"
    assert run(runner, "fit", csv_path, "-k", 2, "-o", model, "--standardize").exit_code == 0
    res = run(runner, "bootstrap", model, csv_path, "-B", 40, "--plot", tmp_path / "i.png")
    assert res.exit_code == 0, res.output
    for text in ("std. error", "95% lower", "weight[0]", "mean[1, waiting]", "cov[0, eruptions, waiting]"):
        assert text in res.output
    _png(tmp_path / "i.png")
    js = run(runner, "bootstrap", model, csv_path, "-B", 40, "--json", "--kind", "weighted")
    rows = json.loads(js.output)
    assert len(rows) == 2 + 4 + 6
    means = {r["parameter"]: r for r in rows}
    # standardised at fit time: the table is in the data's units
    assert 40 < max(means["mean[0, waiting]"]["estimate"], means["mean[1, waiting]"]["estimate"]) < 100


def test_bootstrap_command_refuses_non_gaussian(runner, tmp_path):
    counts = pd.DataFrame(np.random.default_rng(0).poisson(3, (100, 2)), columns=["a", "b"])
    counts.to_csv(tmp_path / "c.csv", index=False)
    assert (
        run(
            runner, "fit", tmp_path / "c.csv", "-k", 2, "--family", "poisson", "-o", tmp_path / "p.emix"
        ).exit_code
        == 0
    )
    res = runner.invoke(app, ["bootstrap", str(tmp_path / "p.emix"), str(tmp_path / "c.csv"), "-B", "5"])
    assert res.exit_code != 0 and "has no means" in res.output


def test_plots_return_figures(tmp_path):
    X = emix.datasets.load_faithful()
    bgm = emix.BayesianGaussianMixture(
        5, weight_concentration_prior_type="dirichlet_distribution", random_state=0
    )
    fig = plot_posterior_weights(bgm.fit(X))
    assert len(fig.axes) == 1 and len(fig.axes[0].patches) == 5
    save_figure(fig, tmp_path / "w.png")
    _png(tmp_path / "w.png")
    g = emix.GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
    fig = plot_intervals(emix.bootstrap(g, X, n_boot=20, random_state=0, feature_names=["e", "w"]))
    assert sum(ax.get_visible() for ax in fig.axes) == 1 + 2 + 3
    save_figure(fig, tmp_path / "i.svg")
    assert (tmp_path / "i.svg").read_text().lstrip().startswith("<?xml")
