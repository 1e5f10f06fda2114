"""Model files: what a fitted estimator saves, and how it takes its values back.

:class:`SavingMixin` is the part of :class:`~emix.estimators.core.MixtureEstimator`
that :mod:`emix.io` talks to: the names of the saved arrays and scalars (asked of the
family), the checks and derived attributes after a read, and :meth:`~SavingMixin.save`.
"""

from __future__ import annotations

import os

from . import diagnostics, fitted


class SavingMixin:
    """The saved attributes of a fitted mixture, ``save``, and the restore after ``emix.load``."""

    def _saved_arrays(self) -> tuple[str, ...]:
        names = tuple(n + "_" for n in self._base_family().array_names())
        return fitted.SAVED_ARRAYS + names

    def _optional_saved(self) -> tuple[str, ...]:
        """Saved arrays that files from earlier versions may lack (derived when read)."""
        return fitted.OPTIONAL_ARRAYS

    def _saved_scalars(self) -> tuple[str, ...]:
        return fitted.SAVED_SCALARS + fitted.extra_weight_names(self._base_family())

    def _restore_fitted(self) -> None:
        """Check fitted values read from a file and derive the rest; raise ValueError if inconsistent."""
        fitted.restore(self)
        self._components_cache = None
        self._set_component_attributes(self._component_params())

    def _restore_diagnostics(self, data: dict | None) -> None:
        """``diagnostics_`` from a model file's JSON (``None``: a file of an earlier emix)."""
        self.diagnostics_ = diagnostics.from_file(data, bool(self.converged_))

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to a model file, atomically (a pickle-free ZIP archive).

        Parameters
        ----------
        path : str or path-like
            The file to write; an existing file is replaced only once the new
            one is complete.

        Raises
        ------
        NotFittedError
            The model is not fitted.

        See Also
        --------
        emix.load : Read the file back.
        """
        from ..io import save_model

        save_model(self, path)
