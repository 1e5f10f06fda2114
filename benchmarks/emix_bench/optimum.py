"""Time to the optimum: emix's own rule against scikit-learn's oracle tol, both oracle, first hit.

Both libraries start from scikit-learn's ``fit(max_iter=1, random_state=0)``; the optimum is
scikit-learn's fit with ``tol=1e-12``; "reached" means within 1e-6 relative of it.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.mixture import GaussianMixture as SkGM

from emix import GaussianMixture as EmGM
from emix.engine import run_em

from . import clock

# The module whose global ``run_em`` emix's ``fit`` calls: the first-hit hook wraps it there.
ESTIMATOR_MODULE = inspect.getmodule(EmGM.fit)


#: a timed fit is repeated until this many seconds are spent on it (at least ``reps`` times, at
#: most :data:`MAX_REPS`): the best of many runs of a millisecond fit, for both libraries alike
MIN_SECONDS = 0.5
MAX_REPS = 200


def _timed(fn, reps):
    best, out, spent, n = np.inf, None, 0.0, 0
    while n < reps or (spent < MIN_SECONDS and n < MAX_REPS):
        t = clock.now()
        out = fn()
        took = clock.now() - t
        best, spent, n = min(best, took), spent + took, n + 1
    return best, out


def _sklearn_oracle(X, k, cov, init, close, timed):
    """scikit-learn with the largest ``tol`` in 1e-3, 1e-4, ... that ends within 1e-6 relative."""
    for e in range(3, 13):
        tol = 10.0**-e
        g = SkGM(k, covariance_type=cov, tol=tol, max_iter=100_000, **init).fit(X)
        if close(g.lower_bound_ * X.shape[0]):
            t, g = timed(
                lambda tol=tol: SkGM(k, covariance_type=cov, tol=tol, max_iter=100_000, **init).fit(X)
            )
            return tol, t, g
    return None, None, None


def _first_hit(hits):
    return min(hits, key=lambda h: np.inf if h[0] is None else h[0])


def time_to_optimum(name, X, k, cov, reps=3):
    """emix defaults vs scikit-learn at the largest tol that reaches the optimum (1e-6 relative)."""
    seed = SkGM(k, covariance_type=cov, max_iter=1, random_state=0).fit(X)
    init = {"weights_init": seed.weights_, "means_init": seed.means_, "precisions_init": seed.precisions_}
    n = X.shape[0]
    ref = SkGM(k, covariance_type=cov, tol=1e-12, max_iter=100_000, **init).fit(X)
    opt = ref.lower_bound_ * n
    # log-likelihood at the start itself (the E-step of one iteration from it)
    start_ll = SkGM(k, covariance_type=cov, tol=0, max_iter=1, **init).fit(X).lower_bound_ * n

    def close(ll):
        return abs(ll - opt) <= 1e-6 * abs(opt)

    def timed(fn):
        return _timed(fn, reps)

    t_em, em = timed(
        lambda: EmGM(k, covariance_type=cov, n_jobs=clock.THREADS[0], max_iter=100_000, **init).fit(X)
    )
    sk_default = SkGM(k, covariance_type=cov, **init).fit(X)
    sk_tol, t_sk, sk = _sklearn_oracle(X, k, cov, init, close, timed)
    # the issue's own measure: scikit-learn run to tol=1e-10 (whatever iteration reaches 1e-6 first)
    t_sk10, sk10 = timed(lambda: SkGM(k, covariance_type=cov, tol=1e-10, max_iter=100_000, **init).fit(X))
    # first hit: tight runs, the wall time at which a point within 1e-6 is first evaluated
    em_hit = _first_hit([_first_hit_emix(X, k, cov, init, close) for _ in range(reps)])
    sk_hit = _first_hit([_first_hit_sklearn(X, k, cov, init, close) for _ in range(reps)])
    # both with an oracle tolerance
    em_rtol, t_em_or, em_or = _oracle_emix(X, k, cov, init, close, timed)
    return {
        "name": name,
        "cov": cov,
        "opt": opt,
        "start_gap": abs(start_ll - opt) / abs(opt),
        "em_hit_time": em_hit[0],
        "em_hit_passes": em_hit[1],
        "sk_hit_time": sk_hit[0],
        "sk_hit_iters": sk_hit[1],
        "hit_ratio": None if None in (em_hit[0], sk_hit[0]) else sk_hit[0] / em_hit[0],
        "em_or_rtol": em_rtol,
        "em_or_time": t_em_or,
        "em_or_passes": None if em_or is None else em_or.n_iter_,
        "oracle_ratio": None if None in (t_em_or, t_sk) else t_sk / t_em_or,
        "em_ll": em.log_likelihood_,
        "em_ok": close(em.log_likelihood_),
        "em_iter": em.n_iter_,
        "em_acc": int(em.accelerated_.sum()),
        "em_time": t_em,
        "sk_default_ll": sk_default.lower_bound_ * n,
        "sk_default_iter": sk_default.n_iter_,
        "sk_tol": sk_tol,
        "sk_iter": None if sk is None else sk.n_iter_,
        "sk_time": t_sk,
        "ratio": None if t_sk is None else t_sk / t_em,
        "sk10_iter": sk10.n_iter_,
        "sk10_time": t_sk10,
        "sk10_ok": close(sk10.lower_bound_ * n),
        "ratio_1e10": t_sk10 / t_em,
    }


class _Hit(Exception):
    """Raised by a hook once a point within 1e-6 of the optimum has been evaluated: ends the run."""


def _first_hit_emix(X, k, cov, init, close):
    """Wall time from the call of ``fit`` to the end of the first pass whose log-likelihood is close.

    emix runs with its defaults (SQUAREM) but ``rtol=1e-12``; the hook is the ``callback`` of
    :func:`emix.engine.run_em` (called after every pass and its M-step with that pass's total
    log-likelihood, extrapolated points included); rejected SQUAREM trial passes are in the wall time.
    """
    emix_mixture = ESTIMATOR_MODULE
    orig = emix_mixture.run_em
    if orig is not run_em:
        raise RuntimeError(f"{emix_mixture.__name__}.run_em is not emix.engine.run_em: the hook would miss")
    state = {}

    def hooked_run_em(*a, callback=None, **kw):
        def cb(it, ll, params):
            if callback is not None:
                callback(it, ll, params)
            if close(ll):
                state["t"] = clock.now()
                state["passes"] = it
                raise _Hit

        return orig(*a, callback=cb, **kw)

    gm = EmGM(k, covariance_type=cov, n_jobs=clock.THREADS[0], rtol=1e-12, max_iter=100_000, **init)
    emix_mixture.run_em = hooked_run_em
    try:
        t0 = clock.now()
        try:
            gm.fit(X)
        except _Hit:
            return state["t"] - t0, state["passes"]
    finally:
        emix_mixture.run_em = orig
    return None, None  # the tight run ended without a pass within 1e-6


def _first_hit_sklearn(X, k, cov, init, close):
    """Wall time from the call of ``fit`` to the end of the first E-step whose log-likelihood is close.

    scikit-learn runs with ``tol=1e-12``; the hook wraps ``_e_step`` (its returned mean
    log-likelihood is that of the current parameters, before the M-step).
    """
    gm = SkGM(k, covariance_type=cov, tol=1e-12, max_iter=100_000, **init)
    orig = gm._e_step
    state = {"n": 0}

    def e_step(Xa, *a, **kw):
        out = orig(Xa, *a, **kw)
        state["n"] += 1
        if close(out[0] * Xa.shape[0]):
            state["t"] = clock.now()
            raise _Hit
        return out

    gm._e_step = e_step
    t0 = clock.now()
    try:
        gm.fit(X)
    except _Hit:
        return state["t"] - t0, state["n"]
    return None, None


def _oracle_emix(X, k, cov, init, close, timed):
    """emix defaults with the largest ``rtol`` in 1e-3, 1e-4, ... that ends within 1e-6 relative."""
    for e in range(3, 13):
        rtol = 10.0**-e
        g = EmGM(k, covariance_type=cov, n_jobs=clock.THREADS[0], rtol=rtol, max_iter=100_000, **init).fit(X)
        if close(g.log_likelihood_):
            t, g = timed(
                lambda rtol=rtol: EmGM(
                    k, covariance_type=cov, n_jobs=clock.THREADS[0], rtol=rtol, max_iter=100_000, **init
                ).fit(X)
            )
            return rtol, t, g
    return None, None, None
