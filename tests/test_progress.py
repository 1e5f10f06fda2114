"""fit(..., progress=callable): one report per EM iteration, with rows per second and time left."""

import numpy as np
import pytest
from helpers import make_blobs

import emix
from emix.estimators.progress import FitProgress


@pytest.mark.filterwarnings("ignore::emix.ConvergenceWarning")
def test_progress_reports_every_iteration():
    X, _ = make_blobs(n=3000, k=3, seed=2)
    seen = []
    m = emix.GaussianMixture(3, n_init=2, random_state=0, accelerate=False, tol=0, max_iter=7)
    m.fit(X, progress=seen.append)
    assert all(isinstance(p, FitProgress) for p in seen)
    assert [(p.restart, p.iteration) for p in seen] == [(r, i) for r in (0, 1) for i in range(1, 8)]
    assert all(p.n_restarts == 2 and p.max_iter == 7 and p.rows_per_second > 0 for p in seen)
    assert all(p.seconds_left >= 0 and p.elapsed > 0 for p in seen) and seen[-1].seconds_left == 0
    # the reports of the kept restart are its history (the entry of each iteration's pass)
    runs = [[p.log_likelihood for p in seen if p.restart == r] for r in (0, 1)]
    assert any(np.array_equal(run, m.history_[:-1]) for run in runs)


def test_progress_must_be_callable():
    with pytest.raises(emix.InvalidParameterError, match="progress must be a callable"):
        emix.GaussianMixture(2).fit(make_blobs()[0], progress=3)
