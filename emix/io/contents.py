"""What a model file says, checked: the numbers must make a model, not only match their checksums.

A file whose checksums were recomputed after an edit passes every integrity
check, so :func:`emix.load` also checks the content, member by member, before
and after the estimator's own checks (``_restore_fitted`` and the family's
``from_arrays``):

==========================  ====================================================
what                        checked
==========================  ====================================================
scalars                     ``converged_`` a bool, ``n_iter_`` an int >= 0,
                            ``n_features_in_`` an int >= 1, the likelihoods
                            finite numbers, ``init_used_`` a string
shapes (before reading)     ``weights_`` (K,), the Gaussian parts' ``means_``
                            (K, D), ``covariances_`` and
                            ``precisions_cholesky_`` (the covariance model's
                            shape), ``dof_`` (K,), a family's ``array_shapes``
values                      every fitted number finite (the first bad entry named)
weights                     non-negative, summing to one
precision factors           upper triangular with a positive diagonal (a
                            sign-flipped column gives NaN log-densities),
                            and the inverse of the covariances
the model as a whole        finite log-densities at its own means
==========================  ====================================================

Every refusal names the file, the member and the problem
(:func:`~.archive.fail`).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import EmixWarning
from .archive import fail

_SCALAR_RULES: dict[str, tuple[str, Any]] = {
    "converged_": ("a bool", lambda v: isinstance(v, bool)),
    "n_iter_": ("an int >= 0", lambda v: _is_int(v) and v >= 0),
    "n_features_in_": ("an int >= 1", lambda v: _is_int(v) and v >= 1),
    "lower_bound_": ("a finite number", lambda v: _is_real(v)),
    "log_likelihood_": ("a finite number", lambda v: _is_real(v)),
    "init_used_": ("a string", lambda v: isinstance(v, str)),
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and bool(np.isfinite(v))


def check_scalars(scalars: dict[str, Any], path: Path, member: str) -> None:
    """Each fitted scalar of a known name has its type and range.

    Raises
    ------
    ModelFileError
        Naming the scalar, what it must be and what the file says.
    """
    for name, (want, ok) in _SCALAR_RULES.items():
        if name in scalars and not ok(scalars[name]):
            raise fail(path, member, f"fitted value {name} must be {want}, the file says {scalars[name]!r}")


def gaussian_parts(family: Any, n_features: int, prefix: str = "") -> Iterator[tuple[str, Any, int]]:
    """``(prefix, covariance model, D)`` for each part of ``family`` with Gaussian-like arrays.

    A family with a covariance model (``family.model``: Gaussian, Student-t)
    is one part; a product family (``family.families`` and ``columns``) is
    walked, its parts' arrays being named ``partI_NAME``.
    """
    if hasattr(family, "families") and hasattr(family, "columns"):
        for i, (sub, cols) in enumerate(zip(family.families, family.columns, strict=False)):
            yield from gaussian_parts(sub, len(cols), f"{prefix}part{i}_")
    elif hasattr(getattr(family, "model", None), "shape"):
        yield prefix, family.model, n_features


def weight_beside(family: Any, scalars: dict[str, Any]) -> float:
    """The weight a file shows beside ``weights_`` (a noise component's ``noise_weight_``), or 0."""
    split = getattr(family, "split_weights", None)
    if split is None:
        return 0.0
    values = [scalars.get(n + "_") for n in split(np.ones(2))[1]]
    return float(sum(v for v in values if isinstance(v, (int, float))))


def expected_shapes(family: Any, k: int, d: int) -> dict[str, tuple[int, ...]]:
    """The shape of each fitted array (attribute names, ending in ``_``) that the settings fix.

    Arrays not listed here are checked by the family once read.
    """
    out: dict[str, tuple[int, ...]] = {"weights_": (k,)}
    for prefix, model, dd in gaussian_parts(family, d):
        shape = tuple(model.shape(k, dd))
        out.update({f"{prefix}means_": (k, dd), f"{prefix}covariances_": shape})
        out[f"{prefix}precisions_cholesky_"] = shape
    if hasattr(family, "model") and "dof" in family.array_names():
        out["dof_"] = (k,)
    shapes = getattr(family, "array_shapes", None)
    if callable(shapes) and not hasattr(family, "families"):
        out.update({f"{name}_": tuple(s) for name, s in shapes(k, d).items()})
    return out


def check_values(key: str, arr: np.ndarray, member: str, path: Path, rest: float = 0.0) -> None:
    """Every entry of a fitted array is finite; weights are non-negative and sum to one
    (``1 - rest``, where ``rest`` is the weight shown beside them: a noise component's).

    Raises
    ------
    ModelFileError
        Naming the first bad entry (its index in the array).
    """
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise fail(
            path,
            member,
            f"array {key!r} holds {arr[idx].item()!r} at index {list(idx)}; a model's numbers are finite "
            "(the file was altered or written by a broken program): refit the model",
        )
    if key == "weights_":
        w = arr.astype(np.float64)
        if (w < 0).any() or abs(w.sum() + rest - 1) > 1e-6:
            total = "1" if not rest else f"1 - {rest!r} (the noise weight)"
            raise fail(
                path,
                member,
                f"weights_ must be {w.size} non-negative numbers summing to {total}, got {w.tolist()!r} "
                f"(sum {w.sum().item()!r}): the file was altered; refit the model",
            )


def check_factors(
    family: Any, arrays: dict[str, np.ndarray], members: dict[str, str], path: Path, k: int, d: int
) -> None:
    """Each Gaussian part's ``precisions_cholesky_`` is a valid factor and inverts its ``covariances_``.

    A precision factor is upper triangular with a strictly positive diagonal
    (the log-determinant is read off that diagonal; a negative entry gives NaN
    log-densities), or positive where the model stores a diagonal or one
    number per component.

    Raises
    ------
    ModelFileError
        Naming the member, the component and the entry.
    """
    for prefix, model, dd in gaussian_parts(family, d):
        key = f"{prefix}precisions_cholesky_"
        if key not in arrays or f"{prefix}covariances_" not in arrays:
            continue
        pc = arrays[key].astype(np.float64)
        member = members[key]
        square = pc.ndim == 3 or (pc.ndim == 2 and not model.per_component)
        stack = pc if pc.ndim == 3 else pc[None] if square else None
        if stack is not None:
            _check_triangular(stack, key, member, path, tied=pc.ndim == 2)
        elif (pc <= 0).any():
            idx = tuple(int(i) for i in np.argwhere(pc <= 0)[0])
            raise fail(
                path,
                member,
                f"component {idx[0]}: {key} entry {list(idx)} is {pc[idx].item()!r}; "
                "the precision factors of this covariance model are positive. Refit the model",
            )
        _check_inverse(model, arrays[f"{prefix}covariances_"], pc, k, dd, key, members, path)


def _check_triangular(stack: np.ndarray, key: str, member: str, path: Path, *, tied: bool) -> None:
    """Each (D, D) factor of ``stack`` (m, D, D) is upper triangular with a positive diagonal."""
    for j, u in enumerate(stack):
        who = "the shared factor" if tied else f"component {j}"
        below = np.tril(u, -1)
        if below.any():
            r, c = (int(v) for v in np.argwhere(below != 0)[0])
            raise fail(
                path,
                member,
                f"{who}: {key} is not upper triangular (entry [{r}, {c}] is {u[r, c].item()!r}); refit the model",
            )
        diag = np.diagonal(u)
        if (diag <= 0).any():
            i = int(np.flatnonzero(diag <= 0)[0])
            raise fail(
                path,
                member,
                f"{who}: {key} has diagonal entry [{i}, {i}] = {diag[i].item()!r}; a Cholesky factor of a "
                "precision matrix has a positive diagonal (a sign-flipped column gives NaN "
                "log-densities). The file was altered: refit the model",
            )


def _check_inverse(
    model: Any, cov: np.ndarray, pc: np.ndarray, k: int, d: int, key: str, members: dict, path: Path
) -> None:
    """``covariances_`` times the precisions is the identity, to a tolerance scaled by the conditioning."""
    prefix = key[: -len("precisions_cholesky_")]
    cov = cov.astype(np.float64)
    prec = model.precisions(pc)
    eye = np.eye(d)
    for j in range(k if model.per_component else 1):
        c = model.component_covariance(cov, j, d)
        p = model.component_covariance(prec, j, d)
        with np.errstate(all="ignore"):
            tol = max(1e-5, 1e3 * np.finfo(np.float32).eps * float(np.linalg.cond(c)))
            ok = np.allclose(c @ p, eye, rtol=0, atol=tol)
        if not ok:
            both = f"{members[prefix + 'covariances_']}, {members[key]}"
            raise fail(
                path,
                both,
                f"inconsistent model: component {j}: {prefix}covariances_ and {key} "
                "do not agree (their product is not the identity); refit the model",
            )


def probe(est: Any, path: Path) -> None:
    """The restored model gives finite log-densities at its own means (where it has means).

    Raises
    ------
    ModelFileError
        When a density is NaN or infinite there: parameters that checked out one
        by one but do not make a model together.
    """
    means = getattr(est, "means_", None)
    if means is None:
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # the probe is an array: a model fitted on named columns would warn that it has no names
        warnings.filterwarnings("ignore", "X does not have valid feature names", EmixWarning)
        try:
            scores = est.score_samples(np.asarray(means))
        except (ValueError, ArithmeticError, TypeError) as exc:
            raise fail(
                path, None, f"inconsistent model: its log-densities cannot be computed ({exc})"
            ) from None
    bad = ~np.isfinite(scores)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise fail(
            path,
            None,
            f"inconsistent model: the log-density at the mean of component {j} is "
            f"{scores[j].item()!r}; the parameters do not make a model: refit it",
        )


def member_of(message: str, members: dict[str, str]) -> str | None:
    """The member an estimator's or family's error is about: the longest array name in ``message``."""
    found = None
    for key, member in members.items():
        base = key.rstrip("_").split("/")[-1]
        if base and base in message and (found is None or len(base) > len(found[0])):
            found = (base, member)
    return None if found is None else found[1]
