"""SQUAREM's rejected extrapolations are retried at half the step (issue 15), and the Aitken
rule does not stop while the rate of the last changes still rises."""

import sys
import warnings
from pathlib import Path

import numpy as np

import emix
from emix.engine import driver

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _overlapping(n):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from convergence_cases import make_case

        return make_case("gmm-overlap", n)
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_a_rejected_step_is_retried_at_half_its_length(monkeypatch):
    X = _overlapping(20_000)
    caps = []
    real = driver.extrapolate

    def recording(family, seq, step_max, first=None):
        out = real(family, seq, step_max, first)
        caps.append((step_max, out[1], out[0] is not None))
        return out

    monkeypatch.setattr(driver, "extrapolate", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        gm = emix.GaussianMixture(8, covariance_type="full", random_state=0).fit(X)
    halved = [b for a, b in zip(caps, caps[1:]) if a[2] and b[0] == -a[1] / 2.0]
    assert halved  # some step was rejected and retried at half its length
    hist = np.asarray(gm.history_)
    assert (np.diff(hist) >= -1e-9 * np.abs(hist[:-1])).all()  # the history never decreases
    assert len(hist) <= gm.n_iter_ + 1  # every retry is a pass, counted


def test_the_rule_reaches_the_long_run_optimum_where_it_converges():
    X = _overlapping(20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        gm = emix.GaussianMixture(8, covariance_type="diag", random_state=0).fit(X)
        ref = emix.GaussianMixture(
            8, covariance_type="diag", random_state=0, tol=1e-12, rtol=1e-13, max_iter=1500
        ).fit(X)
    assert gm.converged_ and ref.converged_
    best = max(ref.history_)
    assert best - gm.log_likelihood_ <= 1e-8 * abs(best)  # within the rule's rtol of the optimum
