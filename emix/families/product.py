"""The product family: independent groups of columns, each with its own family.

For mixed tables (numeric and coded columns). Given a partition of the
columns into groups ``G_1 .. G_m`` with families ``F_1 .. F_m``, component
``k`` has density::

    log p(x | k) = sum_i  log p_{F_i}(x[G_i] | theta_ik)

The groups are independent given the component, so the statistics are the
tuple of the groups' statistics (computed with the same responsibilities), the
M-step is each group's M-step, and the free-parameter count is the sum.

Missing values (NaN): the groups are independent, so the observed-data
density of a row is the product of each group's density of its observed
cells; each part skips or marginalises its own missing cells. Parts that need
a special variant for NaN (the Gaussian: exact EM with conditional
expectations, :class:`~emix.families.gaussian.missing.MissingGaussianFamily`)
get it from :meth:`ProductFamily.for_missing`; a part whose family does not
handle missing values (Student-t) rejects NaN in its columns.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError, InvalidParameterError
from ._checks import check_no_missing
from ._common import DERIVED_ARRAYS
from .base import SUPPORTS, Stats, recentre_stats


@dataclasses.dataclass(frozen=True)
class ProductParams:
    """Parameters of each group's family, in group order."""

    parts: tuple


@dataclasses.dataclass(frozen=True)
class ProductStats(Stats):
    """``nk`` and the statistics of each group (same responsibilities)."""

    parts: tuple

    def __add__(self, other: Stats) -> ProductStats:
        if type(other) is not type(self):
            return NotImplemented
        return ProductStats(
            nk=self.nk + other.nk, parts=tuple(a + b for a, b in zip(self.parts, other.parts, strict=True))
        )


class ProductFamily:
    """Independent column groups with their own families.

    Parameters
    ----------
    parts : sequence of (family, columns)
        Each family (an emix family object) with the list of column indices it
        models. Every column of X must belong to exactly one group.

    Notes
    -----
    The fitted estimator names each part's arrays ``part{i}_{name}_``
    (``part0_means_``, ``part1_probabilities_``...). NaN is a missing value
    in the columns of parts whose family handles missing values.

    Examples
    --------
    Two real columns and two coded ones:

    >>> from emix.families import CategoricalFamily, GaussianComponents, ProductFamily
    >>> family = ProductFamily([(GaussianComponents("diag"), [0, 1]), (CategoricalFamily(), [2, 3])])
    >>> [part["family"] for part in family.spec()["parts"]]
    ['gaussian', 'categorical']

    :class:`emix.Mixture` fits it (its Examples fit one).
    """

    name = "product"
    #: NaN is a missing value in the columns of parts that handle it (see ``validate``)
    handles_missing = True

    def __init__(self, parts: Sequence[tuple[Any, Sequence[int]]]) -> None:
        if len(parts) == 0:
            raise InvalidParameterError("the product family needs at least one (family, columns) part")
        fams, cols = [], []
        seen: set[int] = set()
        for i, part in enumerate(parts):
            try:
                fam, columns = part
            except (TypeError, ValueError):
                raise InvalidParameterError(
                    f"product part {i} must be a (family, columns) pair, got {part!r}"
                ) from None
            c = np.asarray(columns)
            if c.ndim != 1 or c.size == 0 or c.dtype.kind not in "iu" or (c < 0).any():
                raise InvalidParameterError(
                    f"product part {i}: columns must be a non-empty list of column indices, got {columns!r}"
                )
            dup = seen.intersection(c.tolist())
            if dup:
                raise InvalidParameterError(
                    f"product part {i}: column(s) {sorted(dup)} already belong to another part"
                )
            seen.update(c.tolist())
            fams.append(fam)
            cols.append(tuple(int(v) for v in c))
        self.families = tuple(fams)
        self.columns = tuple(cols)
        self.n_columns = len(seen)
        if seen != set(range(self.n_columns)):
            missing = sorted(set(range(max(seen) + 1)) - seen)
            raise InvalidParameterError(f"product parts must cover columns 0..{max(seen)}; missing {missing}")

    @property
    def exact_m_step(self) -> bool:
        return all(getattr(f, "exact_m_step", True) for f in self.families)

    def _split(self, X: np.ndarray):
        return [X[:, list(c)] for c in self.columns]

    def _with_families(self, families: Sequence[Any]) -> ProductFamily:
        out = copy.copy(self)
        out.families = tuple(families)
        return out

    # -- missing values -------------------------------------------------------------------
    def for_missing(self, X: np.ndarray) -> ProductFamily:
        """A copy for data with NaN: each part whose columns hold NaN and whose
        family has a ``for_missing`` variant uses that variant.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        """
        fams = []
        for f, Xi in zip(self.families, self._split(X), strict=True):
            variant = getattr(f, "for_missing", None)
            fams.append(variant(Xi) if variant is not None and np.isnan(Xi).any() else f)
        if all(a is b for a, b in zip(fams, self.families, strict=True)):
            return self
        return self._with_families(fams)

    @property
    def init_family(self) -> ProductFamily:
        """The family for the initial M-step: each part's ``init_family`` (or the part).

        The parts that change (missing-data Gaussian parts start from their
        base family) need their columns mean-filled: see :attr:`init_fill_columns`.
        """
        fams = [getattr(f, "init_family", f) for f in self.families]
        if all(a is b for a, b in zip(fams, self.families, strict=True)):
            return self
        return self._with_families(fams)

    @property
    def init_fill_columns(self) -> tuple[int, ...]:
        """Columns whose NaN are filled with column means for the initial M-step."""
        return tuple(
            j
            for f, c in zip(self.families, self.columns, strict=True)
            if getattr(f, "init_family", f) is not f
            for j in c
        )

    # -- EM --------------------------------------------------------------------
    def log_prob(self, X: np.ndarray, params: ProductParams) -> np.ndarray:
        """Sum of the groups' log-densities, shape (n, K)."""
        out = None
        for fam, Xi, p in zip(self.families, self._split(X), params.parts, strict=True):
            lp = fam.log_prob(Xi, p)
            out = lp if out is None else out + lp
        return out

    def anchor(self, params: ProductParams) -> tuple:
        return tuple(f.anchor(p) for f, p in zip(self.families, params.parts, strict=True))

    def anchor_from_centres(self, centres: np.ndarray) -> tuple:
        return tuple(
            f.anchor_from_centres(c) for f, c in zip(self.families, self._split(centres), strict=True)
        )

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: tuple) -> ProductStats:
        parts = tuple(
            f.accumulate(Xi, resp, a) for f, Xi, a in zip(self.families, self._split(X), anchor, strict=True)
        )
        return ProductStats(nk=np.asarray(parts[0].nk, dtype=np.float64), parts=parts)

    def recentre_stats(self, stats: ProductStats, like: ProductStats) -> ProductStats:
        """Each group's statistics expressed about ``like``'s (see :func:`~.base.recentre_stats`)."""
        parts = tuple(
            recentre_stats(f, s, ref)
            for f, s, ref in zip(self.families, stats.parts, like.parts, strict=True)
        )
        return ProductStats(nk=stats.nk, parts=parts)

    def m_step(self, stats: ProductStats, previous: ProductParams | None) -> ProductParams:
        prev = (None,) * len(self.families) if previous is None else previous.parts
        return ProductParams(
            parts=tuple(f.m_step(s, p) for f, s, p in zip(self.families, stats.parts, prev, strict=True))
        )

    def n_parameters(self, params: ProductParams) -> int:
        return int(sum(f.n_parameters(p) for f, p in zip(self.families, params.parts, strict=True)))

    def sample(self, rng: np.random.Generator, params: ProductParams, counts: np.ndarray) -> np.ndarray:
        n = int(np.sum(counts))
        out = np.empty((n, self.n_columns))
        for f, c, p in zip(self.families, self.columns, params.parts, strict=True):
            out[:, list(c)] = f.sample(rng, p, counts)
        return out

    # -- teaching (optional method, see emix.families.base) -------------------------------
    def latent_expectations(self, X: np.ndarray, params: ProductParams) -> dict[str, np.ndarray]:
        """The latent expectations of the parts that have some, named ``partI_NAME``.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        params : ProductParams

        Returns
        -------
        dict of str to ndarray of shape (n, K)
            Empty when no part has a second latent variable.
        """
        out = {}
        for i, (f, Xi, p) in enumerate(zip(self.families, self._split(X), params.parts, strict=True)):
            fn = getattr(f, "latent_expectations", None)
            if fn is not None:
                out.update({f"part{i}_{name}": v for name, v in fn(Xi, p).items()})
        return out

    # -- initialisation ------------------------------------------------------------------
    def init_encode(self, X: np.ndarray) -> np.ndarray:
        """Each part's initialisation encoding (identity where a part has none), side by side."""
        out = []
        for f, Xi in zip(self.families, self._split(X), strict=True):
            enc = getattr(f, "init_encode", None)
            out.append(np.asarray(Xi, dtype=np.float64) if enc is None else enc(Xi))
        return np.concatenate(out, axis=1)

    def init_decode_centres(self, centres: np.ndarray) -> np.ndarray:
        """Centres in the original columns from centres in the encoded space."""
        out = np.empty((centres.shape[0], self.n_columns))
        start = 0
        for f, c in zip(self.families, self.columns, strict=True):
            enc = getattr(f, "init_encode", None)
            width = len(c) if enc is None else enc(np.zeros((1, len(c)))).shape[1]
            block = centres[:, start : start + width]
            out[:, list(c)] = block if enc is None else f.init_decode_centres(block)
            start += width
        return out

    # -- estimator support -----------------------------------------------------------
    @property
    def support(self) -> str:
        """The narrowest support of the parts (see emix.families.base.SUPPORTS): what every
        column of X satisfies when each part's columns satisfy the part's."""
        order = SUPPORTS.index
        return max((getattr(f, "support", "real") for f in self.families), key=order)

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        if X.shape[1] != self.n_columns:
            raise InvalidInputError(
                f"X has {X.shape[1]} features but the product family's parts cover {self.n_columns} columns"
            )
        for f, c, Xi in zip(self.families, self.columns, self._split(X), strict=True):
            cols = c if columns is None else [columns[j] for j in c]
            if not getattr(f, "handles_missing", False):
                check_no_missing(Xi, getattr(f, "name", type(f).__name__), cols)
            f.validate(Xi, columns=cols)

    def configure(self, X: np.ndarray) -> ProductFamily:
        out = copy.copy(self)
        out.families = tuple(f.configure(Xi) for f, Xi in zip(self.families, self._split(X), strict=True))
        return out

    def array_names(self) -> tuple[str, ...]:
        return tuple(f"part{i}_{name}" for i, f in enumerate(self.families) for name in f.array_names())

    def init_names(self) -> set[str]:
        """``partI_NAME`` for each part's array names but the derived ones (:data:`~._common.DERIVED_ARRAYS`).

        A part is judged by the name after its ``partI_`` prefix, as the
        estimators always did; so in a product nested in a product, the inner
        parts' derived arrays (``part0_part1_dof``) are required.
        """
        return {
            f"part{i}_{name}"
            for i, f in enumerate(self.families)
            for name in f.array_names()
            if name not in DERIVED_ARRAYS
        }

    def to_arrays(self, params: ProductParams) -> dict[str, np.ndarray]:
        out = {}
        for i, (f, p) in enumerate(zip(self.families, params.parts, strict=True)):
            out.update({f"part{i}_{name}": arr for name, arr in f.to_arrays(p).items()})
        return out

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> ProductParams:
        if n_features != self.n_columns:
            raise InvalidParameterError(
                f"the product family covers {self.n_columns} columns, not {n_features}"
            )
        parts = []
        for i, (f, c) in enumerate(zip(self.families, self.columns, strict=True)):
            prefix = f"part{i}_"
            sub = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            parts.append(f.from_arrays(sub, n_components, len(c)))
        return ProductParams(parts=tuple(parts))

    def spec(self) -> dict:
        return {
            "family": self.name,
            "parts": [
                dict(f.spec(), columns=list(c)) for f, c in zip(self.families, self.columns, strict=True)
            ],
        }
