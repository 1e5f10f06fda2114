"""MAP estimation with mclust's conjugate priors (``prior=``): against mclust's tables, and its invariants.

The tables were written by ``tests/reference/mclust/make_prior.R`` (R 4.2.2,
mclust 6.0.0): ``prior_bic.csv`` holds ``mclustBIC(X, prior = ...)`` on
faithful, iris and galaxies (1-D), with mclust's default tolerance and with
``tol = 1e-10``; ``prior_defaults.csv`` holds ``defaultPrior``'s values.
"""

import csv
import dataclasses
import functools
import warnings

import numpy as np
import pytest
from helpers import make_blobs
from mclust_reference import REFERENCE_DIR, load

import emix
from emix.engine import MixtureParams
from emix.exceptions import InvalidInputError, InvalidParameterError
from emix.families.gaussian.prior import (
    MAP_MODELS,
    GaussianPrior,
    MAPGaussianFamily,
    as_prior,
    data_moments,
)
from emix.families.gaussian.prior_steps import rule_name
from emix.sources import ArraySource, NpySource

BIC_ROWS = list(csv.DictReader(open(REFERENCE_DIR / "prior_bic.csv", newline="")))
DEFAULT_ROWS = list(csv.DictReader(open(REFERENCE_DIR / "prior_defaults.csv", newline="")))
GROUPS = sorted({(r["dataset"], r["prior"], r["tol"]) for r in BIC_ROWS})

#: cells where one side is NA and the other not, and why. At tol = 1e-10 mclust's iris EVI,5 stops
#: (on its relative change) while a component's mass sum(z) is 1.7e-8, just above its threshold
#: sqrt(eps) = 1.5e-8; emix stops one step later, where the next M-step would cross it, and
#: reports NA as mclust does past that threshold.
BORDERLINE = {("iris", "default", "1e-10", "EVI", 5)}


def _vector(text):
    return None if text == "NA" else np.array([float(v) for v in text.split(";")])


def _prior(row, d):
    mean, scale = _vector(row["mean"]), _vector(row["scale"])
    if scale is not None:
        scale = float(scale[0]) if scale.size == 1 else scale.reshape(d, d, order="F")
    return GaussianPrior(shrinkage=float(row["shrinkage"]), mean=mean, scale=scale)


@functools.cache
def _emix_grid(dataset, label, tol):
    rows = [r for r in BIC_ROWS if (r["dataset"], r["prior"], r["tol"]) == (dataset, label, tol)]
    X = load(dataset).X
    models = list(dict.fromkeys(r["model"] for r in rows))
    ks = sorted({int(r["G"]) for r in rows})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = emix.select(
            X, ks, models=models, prior=_prior(rows[0], X.shape[1]), tol=float(tol), n_jobs=1
        )
    return rows, {(r.model, r.n_components): r for r in result.records}


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: "-".join(g))
def test_select_with_a_prior_matches_mclustbic(group):
    rows, records = _emix_grid(*group)
    rel = []
    for row in rows:
        key = (row["model"], int(row["G"]))
        ref, rec = float(row["bic"]) if row["bic"] != "NA" else np.nan, records[key]
        assert rec.n_parameters == int(row["df"])  # the prior adds no parameter
        if (*group, *key) in BORDERLINE:
            assert np.isfinite(ref) != np.isfinite(rec.bic)
            continue
        assert np.isfinite(ref) == np.isfinite(rec.bic), (key, ref, rec.bic)
        if np.isfinite(ref):
            rel.append(abs(rec.bic - ref) / abs(ref))
            # mclust's BIC with a prior: 2 log L - p log n, log L that of the data at the MAP estimate
            n = int(row["n"])
            assert rec.bic == pytest.approx(2 * rec.log_likelihood - rec.n_parameters * np.log(n), rel=1e-12)
    rel = np.array(rel)
    # Both stop on the likelihood's relative change (mclust's rule, the prior left out, as mclust); emix
    # reports the point one EM step after the rule is met (as for the plain models), which moves the
    # likelihood by about tol |L|: 1e-5 relative at mclust's default tol. At tol = 1e-10 the cells agree
    # to 1e-6 but for slowly converging EEI fits with many components (up to 1e-4).
    assert rel.size >= 0.8 * len(rows) - len(BORDERLINE)
    assert rel.max() < 1e-4
    if group[2] == "1e-10":
        assert np.quantile(rel, 0.9) < 2e-6


@pytest.mark.parametrize("row", DEFAULT_ROWS, ids=lambda r: f"{r['dataset']}-{r['model']}-{r['G']}")
def test_default_prior_is_mclusts(row):
    X = load(row["dataset"]).X
    fam = MAPGaussianFamily(row["model"], 0.0).configure_source(ArraySource(X, None, 50))
    k, d = int(row["G"]), X.shape[1]
    rule, prior = fam.resolved(k, d)
    np.testing.assert_allclose(prior.mean, _vector(row["mean"]), rtol=1e-13)
    assert prior.dof == float(row["dof"])
    assert prior.shrinkage == float(row["shrinkage"])
    scale = _vector(row["scale"])
    np.testing.assert_allclose(np.ravel(prior.scale), scale, rtol=1e-12)


def test_a_fit_reaches_mclusts_parameters_for_one_component():
    # mvn("XXX", faithful, prior = priorControl()): loglik -1289.885, Sigma and mu as printed by R
    X = emix.datasets.load_faithful()
    g = emix.GaussianMixture(1, covariance_type="VVV", prior="default", reg_covar=0).fit(X)
    np.testing.assert_allclose(g.means_, [[3.487783, 70.897059]], rtol=1e-6)
    np.testing.assert_allclose(g.covariances_[0], [[1.265508, 13.57844], [13.578442, 179.54265]], rtol=1e-5)
    assert g.log_likelihood_ == pytest.approx(-1289.885, abs=1e-3)
    assert g.log_likelihood_ == pytest.approx(g.score(X) * len(X), rel=1e-12)


# ------------------------------------------------------------------ invariants


@pytest.mark.parametrize("model", MAP_MODELS)
@pytest.mark.parametrize("accelerate", [False, True])
def test_em_never_lowers_the_map_objective(model, accelerate):
    X = emix.datasets.load_faithful() if model not in ("E", "V") else emix.datasets.load_galaxies()
    g = emix.GaussianMixture(
        3, covariance_type=model, prior="default", reg_covar=0, random_state=1, tol=1e-10,
        convergence="mclust", accelerate=accelerate, max_iter=500,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", emix.EmixWarning)  # a drop of the objective would warn
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        g.fit(X)
    h = g.history_
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[1:]))
    fam = g._make_family()
    params = g._fitted_params()
    assert h[-1] == pytest.approx(
        g.log_likelihood_ + fam.log_prior(params.weights, params.components), rel=1e-12
    )
    assert g.lower_bound_ == pytest.approx(h[-1] / len(X), rel=1e-12)


def _objective(fam, X, resp, params):
    """Expected complete-data log-likelihood of ``resp`` (n, K) plus the log prior."""
    lp = fam.log_prob(X, params.components)
    return float((resp * (lp + np.log(params.weights))).sum()) + fam.log_prior(
        params.weights, params.components
    )


@pytest.mark.parametrize("model", MAP_MODELS)
def test_the_map_step_maximises_q_plus_the_log_prior(model):
    """The M-step's point is above every other point of the model's set (other M-steps' points)."""
    rng = np.random.default_rng(7)
    X, _ = make_blobs(120, k=3, seed=3)
    if model in ("E", "V"):
        X = X[:, :1]
    source = ArraySource(X, None, 40)
    fam = MAPGaussianFamily(model, 0.0).configure_source(source)
    resp = rng.dirichlet(np.ones(3), size=len(X))

    def step(r, previous=None):
        stats = fam.accumulate(X, r, X[:3].copy())
        comps = fam.m_step(stats, previous)
        return MixtureParams(weights=stats.nk / stats.nk.sum(), components=comps)

    best = step(resp)
    best = step(resp, best.components)  # iterative models: a warm second step goes on improving
    top = _objective(fam, X, resp, best)
    for _ in range(5):
        other = step(rng.dirichlet(np.ones(3), size=len(X)) * 0.3 + resp * 0.7)
        assert _objective(fam, X, resp, other) <= top + 1e-8 * abs(top)
    # and above its neighbours: every covariance scaled by 1 +- 1e-3, every mean moved by 1e-3
    comps = best.components
    for delta in (-1e-3, 1e-3):
        cov, pc = fam.model.precision_cholesky(comps.covariances * (1 + delta))
        scaled = dataclasses.replace(comps, covariances=cov, precisions_cholesky=pc)
        moved = dataclasses.replace(comps, means=comps.means + delta * rng.standard_normal(comps.means.shape))
        for near in (scaled, moved):
            value = _objective(fam, X, resp, MixtureParams(weights=best.weights, components=near))
            assert value < top


def test_streaming_equals_in_memory(tmp_path):
    X = emix.datasets.load_faithful()
    np.save(tmp_path / "x.npy", X)
    kw = dict(
        n_components=3,
        covariance_type="EEV",
        prior="default",
        reg_covar=0,
        random_state=0,
        tol=1e-8,
        max_iter=2000,
    )
    mem = emix.GaussianMixture(**kw).fit(X)
    streamed = emix.GaussianMixture(**kw).fit(NpySource(tmp_path / "x.npy", chunk_rows=50))
    chunked = emix.GaussianMixture(chunk_size=17, **kw).fit(X)
    assert len(mem.history_) == len(chunked.history_)  # one chunk or many: the same objective
    np.testing.assert_allclose(chunked.history_, mem.history_, rtol=1e-12)
    for other in (streamed, chunked):
        np.testing.assert_allclose(other.means_, mem.means_, rtol=1e-9)
        np.testing.assert_allclose(other.covariances_, mem.covariances_, rtol=1e-8)
        assert other.log_likelihood_ == pytest.approx(mem.log_likelihood_, rel=1e-11)
    moments = data_moments(NpySource(tmp_path / "x.npy", chunk_rows=50))
    np.testing.assert_allclose(moments.cov, np.cov(X.T), rtol=1e-12)
    np.testing.assert_allclose(moments.mean, X.mean(axis=0), rtol=1e-14)


def test_sample_weights_count_rows():
    X = emix.datasets.load_faithful()[:120]
    w = np.where(np.arange(120) % 3 == 0, 2.0, 1.0)
    kw = dict(n_components=2, covariance_type="VVV", prior="default", reg_covar=0, random_state=0, tol=1e-10)
    weighted = emix.GaussianMixture(**kw).fit(X, sample_weight=w)
    repeated = emix.GaussianMixture(**kw).fit(np.repeat(X, w.astype(int), axis=0))
    order = np.argsort(weighted.means_[:, 0]), np.argsort(repeated.means_[:, 0])
    np.testing.assert_allclose(weighted.means_[order[0]], repeated.means_[order[1]], rtol=1e-6)


def test_model_file_round_trip(tmp_path):
    X = emix.datasets.load_faithful()
    prior = GaussianPrior(shrinkage=0.2, mean=[3.0, 70.0], scale=np.diag([0.5, 30.0]))
    g = emix.GaussianMixture(2, covariance_type="VEV", prior=prior, reg_covar=0, random_state=0).fit(X)
    g.save(tmp_path / "m.emix")
    h = emix.load(tmp_path / "m.emix")
    assert as_prior(h.prior) == as_prior(g.prior.spec())
    assert h.log_likelihood_ == g.log_likelihood_
    np.testing.assert_allclose(h.score_samples(X), g.score_samples(X))
    np.testing.assert_array_equal(h.predict(X), g.predict(X))
    h.fit(X)  # the stored prior fits again to the same model
    np.testing.assert_allclose(h.means_, g.means_, rtol=1e-8)


def test_default_and_ml_differ_and_none_is_ml():
    X = emix.datasets.load_faithful()
    kw = dict(n_components=2, covariance_type="VVV", reg_covar=0, random_state=0)
    ml = emix.GaussianMixture(**kw).fit(X)
    none = emix.GaussianMixture(prior=None, **kw).fit(X)
    assert none.log_likelihood_ == ml.log_likelihood_
    map_ = emix.GaussianMixture(prior="default", **kw).fit(X)
    assert map_.log_likelihood_ < ml.log_likelihood_  # ML maximises the likelihood; MAP does not


# ------------------------------------------------------------------ errors


def test_models_without_a_prior_are_refused():
    X = emix.datasets.load_faithful()
    for model in ("VEE", "EVE", "VVE", "EVV"):
        with pytest.raises(InvalidParameterError, match=f"covariance_type='{model}' has no prior"):
            emix.GaussianMixture(2, covariance_type=model, prior="default").fit(X)
    with pytest.raises(InvalidParameterError, match="has no prior"):
        emix.select(X, [2], models=["VEE"], prior="default")
    result = emix.select(X, [2], prior="default", n_jobs=1)  # mclust's ten models with a prior
    assert result.models == ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "VVV")


def test_missing_values_are_refused_with_their_place(tmp_path):
    X = emix.datasets.load_faithful().copy()
    X[4, 1] = np.nan
    with pytest.raises(InvalidInputError, match="row 4, column 1.*drop or impute"):
        emix.GaussianMixture(2, prior="default").fit(X)
    path = tmp_path / "x.csv"  # a file counts its rows from 1 and names its columns
    np.savetxt(path, X, delimiter=",", header="eruptions,waiting", comments="", fmt="%.6g")
    with pytest.raises(InvalidInputError, match=r"x.csv.*row 5, column 'waiting'.*drop or impute"):
        emix.GaussianMixture(2, prior="default").fit(emix.CSVSource(path, chunk_rows=3))


@pytest.mark.parametrize(
    "prior, match",
    [
        ("uniform", "prior must be None, 'default'"),
        ({"shrink": 1}, r"unknown prior field\(s\) \['shrink'\]"),
        (GaussianPrior(shrinkage=-1.0), "shrinkage must be a number >= 0"),
        (GaussianPrior(dof=0), "dof must be > 0"),
        (GaussianPrior(scale=-2.0), "scale must be > 0"),
        (GaussianPrior(scale=[[1.0, 2.0], [2.0, 1.0]]), "symmetric positive definite"),
    ],
)
def test_bad_priors_name_the_problem(prior, match):
    X = emix.datasets.load_faithful()
    with pytest.raises(InvalidParameterError, match=match):
        emix.GaussianMixture(2, prior=prior).fit(X)


def test_a_scale_of_the_wrong_kind_is_named():
    X = emix.datasets.load_faithful()
    with pytest.raises(InvalidParameterError, match="must be a number for covariance rule 'VVI'"):
        emix.GaussianMixture(2, covariance_type="VVI", prior=GaussianPrior(scale=np.eye(2))).fit(X)
    with pytest.raises(InvalidParameterError, match="prior mean has shape"):
        emix.GaussianMixture(2, prior=GaussianPrior(mean=[1.0, 2.0, 3.0])).fit(X)


def test_rules_by_shape():
    assert rule_name("VVV", "full", 1, 2) == "VVV"
    assert rule_name("EII", "spherical", 1, 3) == "VII"  # one component: mclust's mvn
    assert rule_name("EEE", "tied", 3, 1) == "E"
    assert rule_name("VEV", "full", 3, 1) == "V"
    fam = MAPGaussianFamily("VVV", 0.0, GaussianPrior(mean=[0.0, 0.0], scale=np.eye(2)))
    _, prior = fam.resolved(2, 2)  # a prior given in full needs no data
    np.testing.assert_array_equal(prior.scale, np.eye(2))
    with pytest.raises(InvalidParameterError, match="computed from the training data"):
        MAPGaussianFamily("VVV", 0.0).resolved(2, 2)


# ------------------------------------------------------------------ the command line


def _cli(*args):
    from typer.testing import CliRunner

    from emix.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_fit_prior_default_saves_a_map_model(tmp_path):
    csv_path = REFERENCE_DIR / "faithful.csv"
    out = tmp_path / "map.emix"
    res = _cli(
        "fit", csv_path, "-k", 2, "--covariance", "VVV", "--prior", "default", "--reg-covar", 0, "-o", out
    )
    assert res.exit_code == 0, res.output
    model = emix.load(out)
    assert as_prior(model.prior) == GaussianPrior()
    X = emix.datasets.load_faithful()
    direct = emix.GaussianMixture(2, covariance_type="VVV", prior="default", reg_covar=0, random_state=0).fit(
        X
    )
    assert model.log_likelihood_ == pytest.approx(direct.log_likelihood_, rel=1e-9)
    assert f"{direct.log_likelihood_:.6f}" in res.output
    assert f"log L + log prior  {direct.history_[-1]:.6f}" in res.output
    res = _cli(
        "fit", csv_path, "-k", 2, "--prior", '{"shrinkage": 0.5, "scale": [[0.5, 0], [0, 30]]}', "-o", out
    )
    assert res.exit_code == 0, res.output
    assert as_prior(emix.load(out).prior).shrinkage == 0.5


def test_cli_select_prior_prints_mclusts_table():
    res = _cli("select", REFERENCE_DIR / "faithful.csv", "-k", "1..2", "--prior", "default")
    assert res.exit_code == 0, res.output
    assert "-2607.798" in res.output and "-2322.683" in res.output  # mclust: -2607.798, -2322.686
    assert "VEE" not in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--prior", "flat"], "prior must be None, 'default'"),
        (["--prior", "default", "--family", "poisson"], "--prior applies to the gaussian family"),
        (["--prior", "default", "--bayesian"], "exclude each other"),
        (["--prior", "default", "--online"], "not with --online"),
        (["--prior", "default", "--covariance", "VEE"], "has no prior"),
    ],
)
def test_cli_refuses_bad_priors(tmp_path, args, message):
    res = _cli("fit", REFERENCE_DIR / "faithful.csv", "-k", 2, "-o", tmp_path / "x.emix", *args)
    assert res.exit_code != 0
    assert message in res.output


def test_partial_fit_keeps_the_first_batchs_prior():
    X = emix.datasets.load_faithful()
    g = emix.GaussianMixture(2, covariance_type="VVV", prior="default", reg_covar=0, random_state=0)
    g.partial_fit(X[:150])
    first = g._make_family().moments
    g.partial_fit(X[150:])
    assert g._make_family().moments is first
    np.testing.assert_allclose(first.mean, X[:150].mean(axis=0), rtol=1e-13)


def test_mclusts_rule_reads_the_likelihood_of_a_map_fit():
    from emix.engine import ConvergenceMonitor

    for likelihoods, stops in (([-100.0, -100.0 - 1e-9], True), ([-100.0, -99.0], False)):
        monitor = ConvergenceMonitor(1e-5, 10.0, rule="mclust")
        for objective, alone in zip([-110.0, -109.0], likelihoods, strict=True):  # the objective moves
            monitor.record(objective, likelihood=alone)
        assert monitor.converged is stops
        assert monitor.history == [-110.0, -109.0]
    plain = ConvergenceMonitor(1e-5, 10.0, rule="mclust")
    for value in (-110.0, -109.0):
        plain.record(value)
    assert not plain.converged
