"""The README's tour prints what the README says it prints (its numbers are claims)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import emix

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
X = emix.datasets.load_faithful()


def test_the_five_line_tour():
    gm = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(X)
    assert "[0.1687 0.3564 0.4749]" in README and str(gm.weights_.round(4)) == "[0.1687 0.3564 0.4749]"
    # the last digits of the log-likelihood depend on the CPU (NumPy and numba take other vector
    # code paths with and without AVX-512: -1126.3159317035468 on an Intel Xeon,
    # -1126.3159317035472 on an AMD EPYC), so the printed value is held to 1e-14
    found = re.search(r"\n(-1126\.\d+) (\d+) (True|False)\n", README)
    assert found
    assert gm.log_likelihood_ == pytest.approx(float(found[1]), rel=1e-14, abs=0)
    assert (gm.n_iter_, str(gm.converged_)) == (int(found[2]), found[3])
    assert f"fewer passes ({gm.n_iter_} here," in README  # the sentence below the output


def test_select_with_mclusts_default_prior():
    found = re.search(r"best (\w+), K=(\d), BIC (-[\d.]+) \(mclust: EEE, K=3, -2314\.549\)", README)
    assert found
    result = emix.select(X, prior="default")
    assert (result.best_model, result.best_n_components) == (found[1], int(found[2]))
    assert f"{result.best.bic:.3f}" == found[3]


def test_a_noise_component():
    found = re.search(r"# -> ([\d.]+), (\d+) rows labelled noise", README)
    assert found
    nm = emix.GaussianMixture(3, covariance_type="EEE", noise=True, random_state=0).fit(X)
    assert f"{nm.noise_weight_:.4f}" == found[1]
    assert int((nm.predict(X) == -1).sum()) == int(found[2])
    assert nm.weights_.sum() + nm.noise_weight_ == pytest.approx(1.0, abs=1e-12)
    assert np.isfinite(nm.score_samples(X)).all()
