"""The support of a noise component: a box around the data and its volume, as mclust's ``hypvol``.

mclust's noise component is uniform with density ``1 / V``, where ``V`` is
the smaller of two volumes (``mclust::hypvol``): that of the data's bounding
box, ``prod_j (max_j - min_j)``, and that of the box of their principal
component scores (``princomp``: the eigenvectors of the covariance with
divisor ``n``). The range of the scores along an eigenvector does not depend
on the centring, so the box is ``lower <= x @ rotation <= upper``.

:class:`NoiseBox` is that box: ``rotation`` is the identity for the bounding
box and the eigenvectors for the other. It is found from an array
(:func:`box_of_array`) or from a source in two passes (:func:`box_of_source`:
the moments, then the range of the scores), so that streaming data get the
box of the same rows.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..exceptions import InvalidInputError, InvalidParameterError


@dataclasses.dataclass(frozen=True)
class NoiseBox:
    """A box ``lower <= x @ rotation <= upper`` whose volume is the noise's ``V``.

    Attributes
    ----------
    lower, upper : ndarray of shape (D,)
    rotation : ndarray of shape (D, D)
        Orthonormal columns: the identity (the bounding box) or the principal directions.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.families.noise_volume import box_of_array
    >>> box = box_of_array(np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0], [2.0, 3.0]]))
    >>> float(box.volume)                    # the bounding box 2 x 3 (the PC box is no smaller)
    6.0
    """

    lower: np.ndarray
    upper: np.ndarray
    rotation: np.ndarray

    @property
    def log_volume(self) -> float:
        """``sum_j log(upper_j - lower_j)``."""
        return float(np.log(self.upper - self.lower).sum())

    @property
    def volume(self) -> float:
        """``V``, the box's volume."""
        return float(np.exp(self.log_volume))

    def scaled_to(self, volume: float) -> NoiseBox:
        """The box grown or shrunk about its centre, every side by the same factor, to ``volume``.

        Parameters
        ----------
        volume : float
            Positive and finite.

        Returns
        -------
        NoiseBox
        """
        d = self.lower.shape[0]
        factor = np.exp((np.log(volume) - self.log_volume) / d)
        mid, half = (self.lower + self.upper) / 2, (self.upper - self.lower) / 2
        return NoiseBox(mid - factor * half, mid + factor * half, self.rotation)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` rows uniform in the box, shape (n, D)."""
        y = rng.uniform(self.lower, self.upper, size=(n, self.lower.shape[0]))
        return y @ self.rotation.T


def _checked(lower: np.ndarray, upper: np.ndarray, what: str) -> None:
    """Refuse a box with a side of length zero (its volume is zero: the noise density infinite)."""
    flat = np.flatnonzero(~(upper - lower > 0))
    if flat.size:
        j = int(flat[0])
        raise InvalidInputError(
            f"the noise component needs a volume, but the data's {what} has no extent along "
            f"{'column' if what == 'bounding box' else 'principal direction'} {j + 1} (counting from 1): "
            "the rows lie in a lower-dimensional space. Drop the constant or dependent columns, or give "
            "the volume (noise=VOLUME)"
        )


def _smaller(X_box: tuple[np.ndarray, np.ndarray], pc: tuple[np.ndarray, np.ndarray, np.ndarray]) -> NoiseBox:
    """The bounding box or the principal-component box, whichever is smaller (mclust: ``min``)."""
    lo, hi = X_box
    _checked(lo, hi, "bounding box")
    d = lo.shape[0]
    box = NoiseBox(lo.astype(np.float64), hi.astype(np.float64), np.eye(d))
    plo, phi, vecs = pc
    if d == 1 or not (phi - plo > 0).all():
        return box  # the scores of rank-deficient rows: the bounding box (mclust gives V = 0)
    other = NoiseBox(plo, phi, vecs)
    return other if other.log_volume < box.log_volume else box


def _directions(mean_scatter: np.ndarray) -> np.ndarray:
    """Eigenvectors of a covariance, largest eigenvalue first (as princomp), shape (D, D)."""
    _, vecs = np.linalg.eigh(mean_scatter)
    return vecs[:, ::-1]


def box_of_array(X: np.ndarray) -> NoiseBox:
    """mclust's ``hypvol`` box of the rows of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, D)

    Returns
    -------
    NoiseBox

    Raises
    ------
    InvalidInputError
        When a column is constant (the volume would be zero).

    Examples
    --------
    >>> import emix
    >>> from emix.families.noise_volume import box_of_array
    >>> round(box_of_array(emix.datasets.load_faithful()).volume, 3)   # mclust: hypvol(faithful)
    131.869
    """
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    vecs = _directions(centred.T @ centred / X.shape[0])
    scores = X @ vecs
    return _smaller((X.min(axis=0), X.max(axis=0)), (scores.min(axis=0), scores.max(axis=0), vecs))


def box_of_source(source) -> NoiseBox:
    """:func:`box_of_array` of a source's rows, in two passes (memory: one chunk).

    The first pass merges the chunks' counts, means and centred scatters
    (Chan, Golub and LeVeque); the second takes the range of the scores.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)

    Returns
    -------
    NoiseBox
    """
    d = source.n_features
    n, mean, scatter = 0, np.zeros(d), np.zeros((d, d))
    lo, hi = np.full(d, np.inf), np.full(d, -np.inf)
    for X, _ in source.chunks():
        X = np.asarray(X, dtype=np.float64)
        m = X.shape[0]
        if not m:
            continue
        cm = X.mean(axis=0)
        c = X - cm
        delta = cm - mean
        scatter += c.T @ c + np.outer(delta, delta) * (n * m / (n + m))
        mean += delta * (m / (n + m))
        n += m
        lo, hi = np.minimum(lo, X.min(axis=0)), np.maximum(hi, X.max(axis=0))
    vecs = _directions(scatter / n)
    plo, phi = np.full(d, np.inf), np.full(d, -np.inf)
    for X, _ in source.chunks():
        if X.shape[0]:
            s = np.asarray(X, dtype=np.float64) @ vecs
            plo, phi = np.minimum(plo, s.min(axis=0)), np.maximum(phi, s.max(axis=0))
    return _smaller((lo, hi), (plo, phi, vecs))


def check_volume(volume: object) -> float | None:
    """``noise``'s volume: ``None`` for ``True`` (the data's), else a positive finite float.

    Raises
    ------
    InvalidParameterError
        For anything else (a bool ``False`` is not a volume: the caller handles it).
    """
    if volume is True or volume is None:
        return None
    if isinstance(volume, (bool, np.bool_)) or not isinstance(volume, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(
            f"noise must be True, False or a volume (a positive number), got {volume!r}"
        )
    v = float(volume)
    if not (np.isfinite(v) and v > 0):
        raise InvalidParameterError(
            f"noise={volume!r}: a noise volume must be positive and finite (its density is 1 / volume); "
            "give noise=True to use the data's (mclust's hypvol)"
        )
    return v
