"""``diagnostics_`` on every estimator, and ``strict=True`` (issue #12).

Each finding is made to happen for real: a constant feature with ``reg_covar=0`` (a repaired
covariance, then a degenerate component), two distinct points and three components (duplicates,
an emptied component repaired at every iteration), data on a scale below ``reg_covar``; a
failed restart is the one case made by replacing the driver for one call.
"""

from __future__ import annotations

import inspect
import json
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

import emix
from emix.cli.summary import diagnostics_lines, fit_stats
from emix.estimators import core
from emix.estimators.diagnostics import Diagnostics, FailedStart, duplicate_components
from emix.families.repairs import Repair

FAITHFUL = emix.datasets.load_faithful()
TWO_POINTS = np.repeat([[0.0, 0.0], [5.0, 5.0]], 10, axis=0)
RNG = np.random.default_rng(0)
CONSTANT_FEATURE = np.column_stack([RNG.normal(size=100), np.ones(100)])
BLOBS = np.r_[RNG.normal(0.0, 1.0, (100, 2)), RNG.normal(6.0, 1.0, (100, 2))]


def _clean_fits():
    counts = np.round(FAITHFUL)
    binary = (FAITHFUL > FAITHFUL.mean(axis=0)).astype(float)
    return [
        pytest.param(emix.GaussianMixture(2, random_state=0), FAITHFUL, id="gaussian"),
        pytest.param(emix.GaussianMixture(2, covariance_type="VEV", random_state=0), FAITHFUL, id="mclust"),
        pytest.param(emix.BayesianGaussianMixture(5, max_iter=500, random_state=0), FAITHFUL, id="bayesian"),
        pytest.param(emix.Mixture(2, family="exponential", random_state=0), FAITHFUL, id="mixture"),
        pytest.param(emix.BernoulliMixture(2, random_state=0), binary, id="bernoulli"),
        pytest.param(emix.PoissonMixture(2, random_state=0), counts, id="poisson"),
        # (under the default 'aitken' rule this fit does not converge in 1000 iterations: left to
        # the Student-t family's owner)
        pytest.param(emix.StudentMixture(2, convergence="sklearn", random_state=0), BLOBS, id="student"),
    ]


@pytest.mark.parametrize(("est", "X"), _clean_fits())
def test_every_estimator_has_clean_diagnostics_after_a_clean_fit(est, X):
    est.fit(X)  # the suite turns any emix warning into an error
    diag = est.diagnostics_
    assert isinstance(diag, Diagnostics) and diag.issues == () and diag.converged == est.converged_
    # no findings; a note may say the objective fell where the M-step is inexact by design
    # (alpha > 0 pseudo-counts, reg_covar > 0)
    assert str(diag).startswith("converged; no repairs") or (
        not est._make_family().exact_m_step and all("objective dropped" in n for n in diag.notes)
    )


@pytest.mark.parametrize(("est", "X"), _clean_fits())
def test_strict_is_the_last_argument_and_clone_keeps_it(est, X):
    names = list(inspect.signature(type(est)).parameters)
    assert names[-1] == "strict" and est.get_params()["strict"] is False
    strict = clone(est.set_params(strict=True))
    assert strict.strict is True
    strict.fit(X)  # a clean fit raises nothing
    assert strict.diagnostics_.issues == ()


def test_repaired_covariance_and_degenerate_component_warn_and_are_recorded():
    with pytest.warns(emix.DegenerateComponentWarning) as seen:
        gm = emix.GaussianMixture(1, reg_covar=0.0).fit(CONSTANT_FEATURE)
    messages = [str(w.message) for w in seen]
    assert any("component 0: covariance is not positive definite" in m for m in messages)
    diag = gm.diagnostics_
    (repair,) = diag.repairs
    assert (
        repair.components == (0,) and repair.iteration == 0 and "to the covariance's diagonal" in repair.what
    )
    assert diag.degenerate == (0,) == tuple(gm.degenerate_)
    assert diag.inexact_m_steps == ()  # the start's M-step; EM refused the degenerate steps after it


def test_strict_raises_for_a_repaired_and_degenerate_fit_naming_component_iteration_and_fix():
    gm = emix.GaussianMixture(1, reg_covar=0.0, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # strict: no warning first, the error instead
        with pytest.raises(emix.DiagnosticsError) as info:
            gm.fit(CONSTANT_FEATURE)
    text = str(info.value)
    assert "strict=True" in text and "component 0, iteration 0" in text and "set reg_covar > 0" in text
    assert info.value.diagnostics is gm.diagnostics_ and gm.diagnostics_.degenerate == (0,)
    assert isinstance(info.value, ArithmeticError) and isinstance(info.value, emix.EmixError)


@pytest.mark.parametrize("init", ["random", "hierarchical"])
def test_duplicate_components_warn_name_them_and_are_recorded(init):
    with pytest.warns(emix.DuplicateComponentWarning, match=r"components 0, 1 are alike.*Use 1 fewer"):
        gm = emix.GaussianMixture(3, init_params=init, random_state=0).fit(TWO_POINTS)
    assert gm.diagnostics_.duplicates == ((0, 1),)
    assert np.allclose(gm.means_[0], gm.means_[1])
    assert "components 0, 1 are alike: use 1 fewer component(s)" in gm.diagnostics_.issues[0]


def test_strict_raises_for_duplicate_components():
    with pytest.raises(emix.DiagnosticsError, match=r"components 0, 1 are alike") as info:
        emix.GaussianMixture(3, init_params="random", random_state=0, strict=True).fit(TWO_POINTS)
    assert info.value.diagnostics.duplicates == ((0, 1),)


def test_emptied_component_is_repaired_at_every_iteration_and_the_steps_are_inexact():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        gm = emix.GaussianMixture(3, random_state=0).fit(TWO_POINTS)  # k-means: one centre left empty
    kinds = {w.category for w in seen}
    assert {emix.DegenerateComponentWarning, emix.DuplicateComponentWarning} <= kinds
    diag = gm.diagnostics_
    assert diag.repairs[0].iteration == 0 and diag.repairs[0].what.startswith("received no responsibility")
    assert diag.inexact_m_steps == tuple(r.iteration for r in diag.repairs[1:]) and diag.inexact_m_steps
    assert "inexact M-steps (repaired) at iteration(s) 1" in str(diag)


def test_distinct_components_are_not_duplicates_whatever_the_offset():
    gm = emix.GaussianMixture(2, random_state=0).fit(FAITHFUL + 1e8)
    assert gm.diagnostics_.duplicates == ()
    # the same component twice is found at any offset and scale; weights do not matter
    from emix.engine import MixtureParams

    family = gm._make_family()
    comps = family.from_arrays(
        {"means": gm.means_[[0, 0, 1]], "covariances": gm.covariances_[[0, 0, 1]]}, 3, 2
    )
    params = MixtureParams(weights=np.array([0.1, 0.5, 0.4]), components=comps)
    assert duplicate_components(family, params, total_weight=272) == ((0, 1),)
    nearly = family.from_arrays(
        {
            "means": gm.means_[[0, 0, 1]] + [[0, 0], [1e-3, 0], [0, 0]],
            "covariances": gm.covariances_[[0, 0, 1]],
        },
        3,
        2,
    )
    assert duplicate_components(family, MixtureParams(params.weights, nearly), total_weight=272) == ()


class _SampledOnly(emix.families.GaussianComponents):
    """The Gaussian family without ``probe_rows``: the diagnostic samples every pair."""

    probe_rows = None


class _NeverSampled(emix.families.GaussianComponents):
    def sample(self, rng, params, counts):
        raise AssertionError("the probe rows should have told every pair apart")


@pytest.mark.parametrize("cov", ["full", "tied", "diag", "spherical", "VEV", "EEI"])
def test_components_told_apart_at_their_means_are_not_sampled(cov):
    from emix.engine import MixtureParams

    gm = emix.GaussianMixture(2, covariance_type=cov, random_state=0).fit(BLOBS)
    arrays = {n: getattr(gm, n + "_") for n in ("means", "covariances")}
    family = _NeverSampled(cov, 1e-6)
    params = MixtureParams(gm.weights_, family.from_arrays(arrays, 2, 2))
    assert duplicate_components(family, params, total_weight=200) == ()


@given(
    scale=st.sampled_from([1e-6, 1.0, 1e6]),
    offset=st.sampled_from([0.0, 1e8]),
    shift=st.sampled_from([0.0, 1e-9, 1e-6, 1e-4, 1e-2, 1.0]),
    widen=st.sampled_from([1.0, 1.0 + 1e-9, 1.0 + 1e-5, 1.01]),
    cov=st.sampled_from(["full", "tied", "diag", "spherical"]),
)
@settings(max_examples=60, deadline=None)
def test_the_probe_rows_never_change_the_sampled_answer(scale, offset, shift, widen, cov):
    # components 0 and 1 the same but for a shift of the mean (in units of its sd) and a
    # widened covariance; 2 far apart: the screened answer is the sampled one, and with
    # nothing changed the pair is found
    from emix.engine import MixtureParams

    means = offset + scale * np.array([[0.0, 0.0], [shift, 0.0], [5.0, 5.0]])
    base = scale**2 * np.array([[1.0, 0.3], [0.3, 2.0]])
    full = np.stack([base, base * widen, base])
    covariances = {
        "full": full,
        "tied": base,
        "diag": np.diagonal(full, axis1=1, axis2=2).copy(),
        "spherical": full[:, 0, 0].copy(),
    }[cov]
    screened = emix.families.GaussianComponents(cov, 0.0)
    sampled = _SampledOnly(cov, 0.0)
    arrays = {"means": means, "covariances": covariances}
    params = MixtureParams(np.full(3, 1 / 3), screened.from_arrays(arrays, 3, 2))
    found = duplicate_components(screened, params, total_weight=100)
    assert found == duplicate_components(sampled, params, total_weight=100)
    if shift == 0.0 and (widen == 1.0 or cov == "tied"):
        assert found == ((0, 1),)


def test_components_apart_by_an_impossible_level_are_not_duplicates():
    # rows one component cannot give (log-density -inf under it, finite under the other) tell them apart
    family = emix.families.CategoricalFamily(alpha=0).configure(np.array([[0.0, 0.0], [1.0, 2.0]]))
    from emix.engine import MixtureParams

    probs = np.array([[[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]])
    comps = family.from_arrays({"probabilities": probs}, 2, 2)
    params = MixtureParams(weights=np.array([0.5, 0.5]), components=comps)
    assert duplicate_components(family, params, total_weight=100) == ()
    same = family.from_arrays({"probabilities": probs[[0, 0]]}, 2, 2)
    assert duplicate_components(family, MixtureParams(params.weights, same), total_weight=100) == ((0, 1),)


def test_a_failed_restart_is_skipped_warned_recorded_and_strict_raises(monkeypatch):
    real = core.run_em
    calls = []

    def first_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise emix.NumericalError("the log-likelihood is not finite (made to fail)")
        return real(*args, **kwargs)

    monkeypatch.setattr(core, "run_em", first_fails)
    with pytest.warns(emix.FailedStartWarning, match=r"restart 0 of n_init=3 failed and was skipped"):
        gm = emix.GaussianMixture(2, n_init=3, random_state=0).fit(FAITHFUL)
    assert gm.diagnostics_.failed_starts == (
        FailedStart(0, "NumericalError: the log-likelihood is not finite (made to fail)"),
    )
    assert gm.converged_ and gm.diagnostics_.repairs == ()
    calls.clear()
    with pytest.raises(emix.DiagnosticsError, match=r"failed start: restart 0: NumericalError"):
        emix.GaussianMixture(2, n_init=3, random_state=0, strict=True).fit(FAITHFUL)


def test_every_restart_failing_raises_the_error(monkeypatch):
    def fails(*args, **kwargs):
        raise emix.NumericalError("made to fail")

    monkeypatch.setattr(core, "run_em", fails)
    with pytest.warns(emix.FailedStartWarning), pytest.raises(emix.NumericalError, match="made to fail"):
        emix.GaussianMixture(2, n_init=2, random_state=0).fit(FAITHFUL)
    with pytest.raises(emix.NumericalError, match="made to fail"):  # one start: its error, as before
        emix.GaussianMixture(2, random_state=0).fit(FAITHFUL)


def test_a_constant_feature_is_not_swamped_but_a_tiny_one_is():
    X = np.column_stack([FAITHFUL[:, 0], np.full(272, 3.0)])
    assert emix.GaussianMixture(2, random_state=0).fit(X).diagnostics_.regularised_features == ()
    with pytest.warns(emix.RegularizationWarning, match=r"reg_covar=1e-06 .* feature\(s\) 1 .*Scale"):
        gm = emix.GaussianMixture(2, random_state=0).fit(X + np.array([0.0, 1e-6]) * FAITHFUL)
    assert gm.diagnostics_.regularised_features == (1,)
    # the rule follows reg_covar: lowered below the feature's scale, nothing is swamped
    tiny = np.column_stack([FAITHFUL[:, 0], 1e-6 * FAITHFUL[:, 1]])
    low = emix.GaussianMixture(2, reg_covar=1e-30, random_state=0).fit(tiny)
    assert low.diagnostics_.regularised_features == ()


def test_diagnostics_survive_a_model_file_and_an_old_file_says_it_has_none(tmp_path):
    with pytest.warns(emix.DuplicateComponentWarning):
        gm = emix.GaussianMixture(3, init_params="random", random_state=0).fit(TWO_POINTS)
    path = tmp_path / "m.emix"
    gm.save(path)
    assert emix.load(path).diagnostics_ == gm.diagnostics_
    old = tmp_path / "old.emix"  # the same file without the field, as emix wrote it before
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "emix.json":
                meta = json.loads(data)
                del meta["diagnostics_"]
                data = json.dumps(meta).encode()
            dst.writestr(item, data)
    back = emix.load(old).diagnostics_
    assert back.issues == () and "earlier emix" in back.notes[0] and back.converged == gm.converged_


def test_a_malformed_diagnostics_field_is_a_model_file_error(tmp_path):
    gm = emix.GaussianMixture(2, random_state=0).fit(FAITHFUL)
    path, bad = tmp_path / "m.emix", tmp_path / "bad.emix"
    gm.save(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "emix.json":
                meta = json.loads(data)
                meta["diagnostics_"] = {"converged": True}
                data = json.dumps(meta).encode()
            dst.writestr(item, data)
    with pytest.raises(emix.ModelFileError, match=r"'diagnostics_' is malformed"):
        emix.load(bad)


def test_partial_fit_sets_diagnostics_that_say_what_they_cover():
    gm = emix.GaussianMixture(2, random_state=0).partial_fit(FAITHFUL)
    assert gm.diagnostics_.issues == () and "partial_fit" in gm.diagnostics_.notes[0]


def test_the_cli_summary_lists_the_findings_only_when_there_are_some():
    from emix.cli.files import Scaling

    clean = emix.GaussianMixture(2, random_state=0).fit(FAITHFUL)
    assert "diagnostics" not in fit_stats(clean, 272, None, None, None, Scaling(None, None))
    with pytest.warns(emix.DuplicateComponentWarning):
        dup = emix.GaussianMixture(3, init_params="random", random_state=0).fit(TWO_POINTS)
    stats = fit_stats(dup, 20, None, None, None, Scaling(None, None))
    assert "components 0, 1 are alike" in stats["diagnostics"]
    many = Diagnostics(repairs=tuple(Repair((0,), "x", i) for i in range(10)))
    dup.diagnostics_ = many
    lines = diagnostics_lines(dup)
    assert len(lines) == 6 and lines[-1] == "... and 5 more (see diagnostics_)"


def test_json_round_trip_and_summary_text():
    diag = Diagnostics(
        converged=False,
        repairs=(Repair((2,), "added 1e-15 to the covariance's diagonal", 3, 1),),
        inexact_m_steps=(3,),
        degenerate=(2,),
        duplicates=((0, 1),),
        failed_starts=(FailedStart(0, "NumericalError: x"),),
        regularised_features=(1,),
        notes=("a note",),
    )
    assert Diagnostics.from_json(json.loads(json.dumps(diag.to_json()))) == diag
    assert str(diag).splitlines() == [
        "did not converge (max_iter reached)",
        "inexact M-steps (repaired) at iteration(s) 3",
        "repair: component 2, iteration 3: added 1e-15 to the covariance's diagonal",
        "degenerate component(s) 2: set reg_covar > 0, use fewer components or another covariance model",
        "components 0, 1 are alike: use 1 fewer component(s) or more restarts (n_init)",
        "failed start: restart 0: NumericalError: x",
        "reg_covar swamps feature(s) 1: scale the features or lower reg_covar",
        "note: a note",
    ]
