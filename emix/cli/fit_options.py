"""The options of ``emix fit`` and the estimator they describe (:class:`EstimatorSettings`)."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from .errors import Failure

#: files larger than this are fitted by streaming (``emix fit --stream``) unless --no-stream is given
STREAM_BYTES = 1 << 30


class Family(str, enum.Enum):
    """The values of ``--family``."""

    gaussian = "gaussian"
    student = "student"
    bernoulli = "bernoulli"
    categorical = "categorical"
    poisson = "poisson"
    exponential = "exponential"


# -- the options only fit has ---------------------------------------------------------------------------

NComponentsOpt = Annotated[int, typer.Option("-k", "--n-components", help="Number of components K.")]
OutputOpt = Annotated[Path, typer.Option("-o", "--output", help="Model file to write.", show_default=False)]
StandardizeOpt = Annotated[
    bool,
    typer.Option(
        "--standardize/--no-standardize",
        help="Centre and scale each column; stored in the model, so "
        "predict, sample and score use the data's own units (also --standardize true|false).",
    ),
]
NInitOpt = Annotated[int, typer.Option("--n-init", help="Initialisations; the best is kept.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (reproducible by default).")]
MaxIterOpt = Annotated[int, typer.Option("--max-iter", help="Maximum EM iterations per initialisation.")]
TolOpt = Annotated[
    float,
    typer.Option(
        "--tol",
        help="Stop only once the gain per row still expected is below this (both rules; 0: run --max-iter).",
    ),
]
RtolOpt = Annotated[
    float,
    typer.Option("--rtol", help="Relative tolerance of the aitken rule (raise it to stop sooner)."),
]
ConvergenceOpt = Annotated[
    str,
    typer.Option("--convergence", help="Stopping rule: aitken (default) or sklearn (scikit-learn's rule)."),
]
RegCovarOpt = Annotated[float, typer.Option("--reg-covar", help="Jitter added to covariance diagonals.")]
InitOpt = Annotated[
    str,
    typer.Option(
        "--init",
        help="kmeans, k-means++, random, random_from_data, hierarchical or trimmed-kmeans; "
        "default: the estimator's (kmeans; for student, kmeans and trimmed-kmeans, the more likely kept).",
    ),
]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Also draw the clusters (PNG, SVG, PDF).")]
AnimateOpt = Annotated[Path | None, typer.Option("--animate", help="Also write an animated GIF of EM.")]
ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Progress bar with the log-likelihood (default: when stderr is a terminal).",
        show_default=False,
    ),
]
FamilyOpt = Annotated[Family, typer.Option("--family", help="Component family (see docs/families.md).")]
WeightsOpt = Annotated[
    str | None, typer.Option("--weights", help="Column of non-negative row weights (not a feature).")
]
LabelsOpt = Annotated[
    str | None,
    typer.Option(
        "--labels",
        help="Column of known components (0..K-1) for some rows, -1 or empty for "
        "the others: semi-supervised EM (not a feature).",
    ),
]
BayesianOpt = Annotated[
    bool,
    typer.Option(
        "--bayesian",
        help="Variational Bayes (BayesianGaussianMixture, Dirichlet-process prior): "
        "-k is an upper bound, unneeded components keep a weight near zero.",
    ),
]
EqualWeightsOpt = Annotated[
    bool, typer.Option("--equal-weights", help="Keep every weight at 1/K (mclust's equalPro).")
]
NoiseOpt = Annotated[
    bool,
    typer.Option(
        "--noise",
        help="Add a noise component (mclust's): uniform over the data's box (hypvol), its weight estimated; "
        "predict labels its rows -1.",
    ),
]
PriorOpt = Annotated[
    str | None,
    typer.Option(
        "--prior",
        help="MAP with mclust's conjugate prior: 'default' (priorControl()), or a JSON object of its "
        "fields shrinkage, mean, dof, scale (the others mclust's defaults). Gaussian family only.",
    ),
]
PlotWeightsOpt = Annotated[
    Path | None, typer.Option("--plot-weights", help="With --bayesian: draw the posterior weights.")
]
StreamOpt = Annotated[
    bool | None,
    typer.Option(
        "--stream/--no-stream",
        help="Read the CSV/Parquet file in chunks on every EM pass "
        "instead of loading it, so it may be larger than memory (default: for files over "
        f"{STREAM_BYTES >> 20} MiB).",
        show_default=False,
    ),
]


@dataclasses.dataclass(frozen=True)
class EstimatorSettings:
    """What ``emix fit`` builds its estimator from: ``--family``, ``-k`` and the EM options."""

    family: Family
    n_components: int
    covariance: str
    tol: float
    reg_covar: float
    max_iter: int
    n_init: int
    init: str  # an initialiser's name, or "default": the estimator's own
    seed: int | None
    rtol: float = 1e-8
    convergence: str = "aitken"
    bayesian: bool = False
    equal_weights: bool = False
    checkpoint: Path | None = None  # the estimator's checkpoint file
    noise: bool = False  # a noise component (gaussian family)
    prior: str | None = None  # --prior: MAP with mclust's conjugate prior

    def build(self) -> Any:
        """The unfitted estimator for ``--family``.

        Returns
        -------
        GaussianMixture, StudentMixture or Mixture

        Raises
        ------
        Failure
            When ``--covariance`` is given for a family without covariances, or
            ``--bayesian`` with another family or ``--equal-weights``, or
            ``--prior`` with another family.
        """
        from ..estimators.gaussian import GaussianMixture
        from ..estimators.named import Mixture, StudentMixture

        common = dict(
            tol=self.tol,
            rtol=self.rtol,
            convergence=self.convergence,
            max_iter=self.max_iter,
            n_init=self.n_init,
            random_state=self.seed,
            checkpoint=self.checkpoint,
        )
        if self.init != "default":  # else the estimator's own default start
            common["init_params"] = self.init
        k, family = self.n_components, self.family
        if self.bayesian:
            from .bayesian import bayesian_estimator

            return bayesian_estimator(self, common)
        common["equal_weights"] = self.equal_weights
        if self.noise and family is not Family.gaussian:
            raise Failure(f"--noise applies to the gaussian family, not {family.value}")
        if family is Family.gaussian:
            extra = ({"noise": True} if self.noise else {}) | (
                {} if self.prior is None else {"prior": self.prior}
            )
            return GaussianMixture(
                k, covariance_type=self.covariance, reg_covar=self.reg_covar, **common, **extra
            )
        if self.prior is not None:
            raise Failure(f"--prior applies to the gaussian family, not {family.value}")
        if family is Family.student:
            return StudentMixture(k, covariance_type=self.covariance, reg_covar=self.reg_covar, **common)
        if self.covariance != "full":
            raise Failure(f"--covariance applies to the gaussian and student families, not {family.value}")
        return Mixture(k, family=family.value, **common)
