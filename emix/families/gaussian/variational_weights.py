"""The two priors of a variational mixture's weights, and the Wishart terms of its ELBO.

Weight priors, behind :data:`WEIGHT_PRIORS` (scikit-learn's
``weight_concentration_prior_type``):

``"dirichlet_distribution"`` (:class:`DirichletWeights`)
    ``pi ~ Dirichlet(alpha_0, ..., alpha_0)``; the posterior is
    ``Dirichlet(alpha)`` with ``alpha_k = alpha_0 + N_k``; its concentration is
    stored as shape (K,).
``"dirichlet_process"`` (:class:`StickBreakingWeights`)
    the truncated stick-breaking representation of a Dirichlet process (Blei
    and Jordan 2006): ``pi_k = v_k prod_{j<k} (1 - v_j)``, ``v_k ~ Beta(1,
    alpha_0)``; the posterior is ``v_k ~ Beta(a_k, b_k)`` with ``a_k = 1 +
    N_k`` and ``b_k = alpha_0 + sum_{j>k} N_j``; stored as shape (2, K)
    (scikit-learn's ``weight_concentration_`` is the tuple ``(a, b)``).

Each gives the posterior concentration from ``N_k``, ``E_q[log pi_k]``, the
posterior-mean weights (scikit-learn's ``weights_``), ``KL(q(pi) || p(pi))``
and the constant scikit-learn leaves out of its lower bound.

The Wishart helpers take a Wishart ``W(Lambda | W, nu)`` by ``log|W|`` and
``nu`` (scale ``W``, so ``E[Lambda] = nu W``), in ``D`` dimensions.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from scipy.special import betaln, digamma, gammaln


class DirichletWeights:
    """A finite mixture: ``pi ~ Dirichlet(alpha_0 1_K)``."""

    name: ClassVar[str] = "dirichlet_distribution"

    def concentration(self, nk: np.ndarray, prior: float) -> np.ndarray:
        """``alpha = alpha_0 + N_k``, shape (K,)."""
        return prior + nk

    def shape(self, k: int) -> tuple[int, ...]:
        return (k,)

    def expected_log(self, conc: np.ndarray) -> np.ndarray:
        """``E_q[log pi_k] = psi(alpha_k) - psi(sum alpha)``, shape (K,)."""
        return digamma(conc) - digamma(conc.sum())

    def mean(self, conc: np.ndarray) -> np.ndarray:
        """Posterior-mean weights ``alpha_k / sum alpha``, shape (K,)."""
        return conc / conc.sum()

    def kl(self, conc: np.ndarray, prior: float) -> float:
        """``KL(Dirichlet(alpha) || Dirichlet(alpha_0 1_K))``."""
        k, total = len(conc), conc.sum()
        return float(
            gammaln(total)
            - gammaln(conc).sum()
            - gammaln(k * prior)
            + k * gammaln(prior)
            + ((conc - prior) * (digamma(conc) - digamma(total))).sum()
        )

    def sample(self, conc: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the weights from ``q(pi) = Dirichlet(alpha)``, shape (n, K)."""
        return rng.dirichlet(conc, size=n)

    def sklearn_constant(self, k: int, prior: float) -> float:
        """``log C(alpha_0 1_K) = lgamma(K alpha_0) - K lgamma(alpha_0)``, left out by scikit-learn."""
        return float(gammaln(k * prior) - k * gammaln(prior))


class StickBreakingWeights:
    """A truncated Dirichlet process: ``v_k ~ Beta(1, alpha_0)``, ``pi_k = v_k prod_{j<k}(1 - v_j)``."""

    name: ClassVar[str] = "dirichlet_process"

    def concentration(self, nk: np.ndarray, prior: float) -> np.ndarray:
        """``(a, b)`` with ``a_k = 1 + N_k``, ``b_k = alpha_0 + sum_{j>k} N_j``, shape (2, K)."""
        after = np.concatenate([np.cumsum(nk[::-1])[-2::-1], [0.0]])
        return np.stack([1.0 + nk, prior + after])

    def shape(self, k: int) -> tuple[int, ...]:
        return (2, k)

    def expected_log(self, conc: np.ndarray) -> np.ndarray:
        """``E_q[log pi_k] = E[log v_k] + sum_{j<k} E[log(1 - v_j)]``, shape (K,)."""
        a, b = conc
        ds = digamma(a + b)
        log_rest = digamma(b) - ds
        return digamma(a) - ds + np.concatenate([[0.0], np.cumsum(log_rest)[:-1]])

    def mean(self, conc: np.ndarray) -> np.ndarray:
        """Posterior-mean weights ``E[v_k] prod_{j<k} E[1 - v_j]``, renormalised, shape (K,)."""
        a, b = conc
        w = a / (a + b) * np.concatenate([[1.0], np.cumprod(b / (a + b))[:-1]])
        return w / w.sum()

    def kl(self, conc: np.ndarray, prior: float) -> float:
        """``sum_k KL(Beta(a_k, b_k) || Beta(1, alpha_0))``."""
        a, b = conc
        return float(
            (
                betaln(1.0, prior)
                - betaln(a, b)
                + (a - 1.0) * digamma(a)
                + (b - prior) * digamma(b)
                + (1.0 + prior - a - b) * digamma(a + b)
            ).sum()
        )

    def sample(self, conc: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the weights, shape (n, K): sticks ``v_k ~ Beta(a_k, b_k)``, ``pi_k = v_k
        prod_{j<k}(1 - v_j)``, renormalised over the K components (as ``weights_`` is)."""
        a, b = conc
        v = rng.beta(a, b, size=(n, len(a)))
        rest = np.cumprod(np.concatenate([np.ones((n, 1)), 1.0 - v[:, :-1]], axis=1), axis=1)
        w = v * rest
        return w / w.sum(axis=1, keepdims=True)

    def sklearn_constant(self, k: int, prior: float) -> float:
        """``-K log B(1, alpha_0) = K log alpha_0``, left out by scikit-learn."""
        return float(k * math.log(prior))


#: The weight priors by scikit-learn's ``weight_concentration_prior_type``.
WEIGHT_PRIORS: dict[str, type] = {c.name: c for c in (DirichletWeights, StickBreakingWeights)}


# -- the Wishart terms ----------------------------------------------------------------------
def multi_digamma(a: np.ndarray, d: int) -> np.ndarray:
    """``psi_D(a) = sum_{i<D} psi(a - i / 2)``, the shape of ``a``."""
    a = np.asarray(a, dtype=np.float64)
    return digamma(a[..., None] - 0.5 * np.arange(d)).sum(axis=-1)


def multi_gammaln(a: np.ndarray, d: int) -> np.ndarray:
    """``log Gamma_D(a) = D (D - 1) / 4 log pi + sum_{i<D} lgamma(a - i / 2)``, the shape of ``a``."""
    a = np.asarray(a, dtype=np.float64)
    return 0.25 * d * (d - 1) * math.log(math.pi) + gammaln(a[..., None] - 0.5 * np.arange(d)).sum(axis=-1)


def wishart_log_norm(log_det_w: np.ndarray, nu: np.ndarray, d: int) -> np.ndarray:
    """``log B(W, nu) = -nu/2 log|W| - nu D/2 log 2 - log Gamma_D(nu/2)``, the Wishart's log-normaliser."""
    return -0.5 * nu * log_det_w - 0.5 * nu * d * math.log(2.0) - multi_gammaln(0.5 * nu, d)


def expected_log_det(log_det_w: np.ndarray, nu: np.ndarray, d: int) -> np.ndarray:
    """``E[log|Lambda|] = psi_D(nu/2) + D log 2 + log|W|`` under ``W(W, nu)``."""
    return multi_digamma(0.5 * nu, d) + d * math.log(2.0) + log_det_w


def wishart_kl(
    log_det_w: np.ndarray,
    nu: np.ndarray,
    trace_prior_w: np.ndarray,
    log_det_w0: float,
    nu0: float,
    d: int,
) -> np.ndarray:
    """``KL(W(W, nu) || W(W_0, nu_0))``, elementwise over components.

    Parameters
    ----------
    log_det_w, nu : ndarray of shape (K,) (or scalars for one shared Wishart)
    trace_prior_w : ndarray of shape (K,)
        ``tr(W_0^-1 W)``.
    log_det_w0, nu0 : float
        The prior's ``log|W_0|`` and degrees of freedom.
    d : int

    Returns
    -------
    ndarray, the shape of ``nu``
        ``log B(W, nu) - log B(W_0, nu_0) + (nu - nu_0)/2 E[log|Lambda|]
        - nu D/2 + nu/2 tr(W_0^-1 W)``.
    """
    return (
        wishart_log_norm(log_det_w, nu, d)
        - wishart_log_norm(log_det_w0, nu0, d)
        + 0.5 * (nu - nu0) * expected_log_det(log_det_w, nu, d)
        - 0.5 * nu * d
        + 0.5 * nu * trace_prior_w
    )
