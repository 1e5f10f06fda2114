"""Component families. Importing the package registers the mclust covariance models."""

from . import mclust  # noqa: F401  (registers EII ... VVV into COVARIANCE_MODELS)
