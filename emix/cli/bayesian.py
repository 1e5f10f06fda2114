"""What ``emix fit --bayesian`` adds: the variational estimator and the picture of its posterior weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from .errors import Failure

#: the covariance models variational Bayes has (scikit-learn's four)
BAYESIAN_COVARIANCES = ("full", "tied", "diag", "spherical")


def bayesian_estimator(settings: Any, common: dict[str, Any]) -> Any:
    """The unfitted :class:`~emix.BayesianGaussianMixture` of ``emix fit --bayesian``.

    Parameters
    ----------
    settings : EstimatorSettings
        ``--family``, ``-k``, ``--covariance``, ``--reg-covar``, ``--equal-weights``.
    common : dict
        ``tol``, ``max_iter``, ``n_init``, ``init_params`` and ``random_state``.

    Raises
    ------
    Failure
        For a family other than gaussian, a covariance model other than
        scikit-learn's four, or ``--equal-weights``.
    """
    from ..estimators.bayesian import BayesianGaussianMixture

    if settings.family.value != "gaussian":
        raise Failure(f"--bayesian fits Gaussian mixtures, not {settings.family.value}")
    if settings.prior is not None:
        raise Failure("--bayesian and --prior exclude each other: --prior is a MAP fit of GaussianMixture")
    if settings.equal_weights:
        raise Failure("--bayesian and --equal-weights exclude each other: the weights have a posterior")
    if settings.covariance not in BAYESIAN_COVARIANCES:
        raise Failure(
            f"--bayesian takes --covariance {', '.join(BAYESIAN_COVARIANCES)}, not {settings.covariance}"
        )
    return BayesianGaussianMixture(
        settings.n_components, covariance_type=settings.covariance, reg_covar=settings.reg_covar, **common
    )


def draw_posterior_weights(console: Console, model: Any, path: Path) -> None:
    """``--plot-weights``: the posterior weights and their credible intervals, written atomically."""
    from ..teach.plot import plot_posterior_weights, save_figure

    save_figure(plot_posterior_weights(model), path)
    console.print(f"posterior weights written to {path}")
