"""emix and scikit-learn's GaussianMixture on the same bad and extreme inputs, side by side.

Run from the repository root (scikit-learn installed)::

    python docs/scripts/reliability_vs_sklearn.py > /tmp/out.md

It prints a Markdown table, one row per input: what ``emix.GaussianMixture``
does and what ``sklearn.mixture.GaussianMixture`` does (the error's type and
the start of its message, or the result: whether the two clusters were found,
NaN in the output, the warnings). docs/reliability.md holds its output.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SklearnGM

import emix

RNG = np.random.default_rng(0)
X = np.r_[RNG.normal(0.0, 1.0, (100, 2)), RNG.normal(6.0, 1.0, (100, 2))]
Z = np.r_[np.zeros(100, int), np.ones(100, int)]


def cell(value: float, i: int = 7, j: int = 1) -> np.ndarray:
    out = X.copy()
    out[i, j] = value
    return out


def pd_na() -> pd.DataFrame:
    col = pd.array(X[:, 1], dtype="Float64")
    col[7] = pd.NA
    return pd.DataFrame({"a": X[:, 0], "b": col})


def stored_with_flipped_factor(cls: type):
    """Fit, flip the sign of a column of a precision factor in the stored model, read it back, predict.

    emix: its model file, checksums recomputed as a careful forger would;
    scikit-learn: a pickle (its only way to store a model).
    """
    import hashlib
    import io
    import json
    import pickle
    import tempfile
    import zipfile
    from pathlib import Path

    model = cls(2, random_state=0).fit(X)
    if cls is SklearnGM:
        model.precisions_cholesky_[0][:, -1] *= -1
        return pickle.loads(pickle.dumps(model)).predict_proba(X[:3])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.emix"
        model.save(path)
        with zipfile.ZipFile(path) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        meta = json.loads(members["emix.json"])
        pc = np.load(io.BytesIO(members["precisions_cholesky_.npy"]))
        pc[0][:, -1] *= -1
        buf = io.BytesIO()
        np.save(buf, pc)
        members["precisions_cholesky_.npy"] = buf.getvalue()
        meta["arrays"]["precisions_cholesky_"]["sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()
        members["emix.json"] = json.dumps(meta).encode()
        with zipfile.ZipFile(path, "w") as zf:
            for name, blob in members.items():
                zf.writestr(name, blob)
        return emix.load(path).predict_proba(X[:3])


def fit_only(data, **kw):
    return lambda cls: cls(2, random_state=0, **kw).fit(data)


def fit_then(method: str, data, **kw):
    return lambda cls: getattr(cls(2, random_state=0, **kw).fit(X), method)(data)


#: (case, what to do with an estimator class)
CASES: list[tuple[str, Callable]] = [
    ("NaN in one cell", fit_only(cell(np.nan))),
    ("pd.NA in a nullable column", fit_only(pd_na())),
    ("inf in one cell", fit_only(cell(np.inf))),
    ("values of 1e200 (squares overflow)", fit_only(X * 1e200)),
    ("all values times 1e-10 (variances 1e-20)", fit_only(X * 1e-10)),
    ("mixed scales (1e-3 and 1e3)", fit_only(X * [1e-3, 1e3])),
    ("offset of 1e8", fit_only(X + 1e8)),
    ("offset of 1e12", fit_only(X + 1e12)),
    ("N < K (3 rows, K=5)", lambda cls: cls(5).fit(X[:3])),
    ("no rows", fit_only(X[:0])),
    ("one row, K=1", lambda cls: cls(1).fit(X[:1])),
    ("all rows identical", fit_only(np.ones((50, 2)))),
    ("a constant third column", fit_only(np.c_[X, np.ones(200)])),
    ("a column with no observed value", fit_only(np.c_[X, np.full(200, np.nan)])),
    ("1-D data", fit_only(X[:, 0])),
    ("3-D data", fit_only(X[None])),
    ("no columns", fit_only(np.empty((10, 0)))),
    ("a text cell", fit_only(np.array([["1", "a"], ["2", "3"]] * 5))),
    ("complex numbers", fit_only(X + 1j)),
    ("ragged nested lists", fit_only([[1.0, 2.0], [3.0]])),
    ("boolean data", fit_only(X > 3)),
    ("n_components=0", lambda cls: cls(0).fit(X)),
    ("n_components=1.5", lambda cls: cls(1.5).fit(X)),
    ("tol=-1", fit_only(X, tol=-1)),
    ("reg_covar=-1", fit_only(X, reg_covar=-1)),
    ("covariance_type='weird'", fit_only(X, covariance_type="weird")),
    ("weights_init summing to 0.6", fit_only(X, weights_init=[0.3, 0.3])),
    ("means_init of the wrong shape", fit_only(X, means_init=[[0.0, 0.0]])),
    ("precisions_init not positive definite", fit_only(X, precisions_init=[[[1.0, 2.0], [2.0, 1.0]]] * 2)),
    (
        "sample_weight with a negative weight",
        lambda cls: cls(2).fit(X, sample_weight=np.r_[-1.0, np.ones(199)]),
    ),
    ("model stored with a sign-flipped Cholesky column", lambda cls: stored_with_flipped_factor(cls)),
    ("predict before fit", lambda cls: cls(2).predict(X)),
    ("predict with 1 feature of 2", fit_then("predict", X[:, :1])),
    ("predict_proba of a point at 1e200", fit_then("predict_proba", [[1e200, 1e200]])),
    ("score_samples of a row of NaN", fit_then("score_samples", [[np.nan, np.nan]])),
]


def describe(result, warned: list[str]) -> str:
    """What a call gave, in a few words."""
    if hasattr(result, "means_"):
        if not all(np.isfinite(getattr(result, a)).all() for a in ("weights_", "means_", "covariances_")):
            text = "fits, **NaN or inf in the parameters**"
        else:
            text = "fits"
            n = len(Z)
            data = getattr(result, "_reliability_data", None)
            if data is not None and len(data) == n:
                ari = adjusted_rand_score(Z, result.predict(data))
                text += f", ARI {ari:.2f}" + ("" if ari > 0.99 else " (**clusters lost**)")
    else:
        arr = np.asarray(result, dtype=float)
        text = "returns " + ("**NaN**" if np.isnan(arr).any() else f"{np.round(arr, 3).tolist()}")
    if warned:
        text += "; warns " + ", ".join(sorted(set(warned)))
    return text


def run(action: Callable, cls: type) -> str:
    """Run one case with one library, recording warnings and errors."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            result = action(cls)
        except Exception as exc:  # noqa: BLE001 - every outcome is reported
            message = re.sub(r"\S*/(m\.emix)", r"\1", " ".join(str(exc).split()))  # no temporary folder
            message = message if len(message) <= 150 else message[:147] + "..."
            return f"`{type(exc).__name__}`: {message.replace('|', '/')}"
    names = [w.category.__name__ for w in seen]
    if hasattr(result, "means_"):
        result._reliability_data = _data_of(action)
    return describe(result, names)


def _data_of(action: Callable):
    """The data a fit case used (for the ARI), when it is an array of the reference rows."""
    for value in action.__closure__ or ():
        data = value.cell_contents
        if isinstance(data, pd.DataFrame):
            data = data.to_numpy(dtype=float, na_value=np.nan)
        if (
            isinstance(data, np.ndarray)
            and data.ndim == 2
            and data.shape[0] == len(Z)
            and data.dtype.kind == "f"
        ):
            return data if not np.isinf(data).any() and not np.isnan(data).all(axis=0).any() else None
    return None


def main() -> None:
    print(f"emix {emix.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    print()
    print("| input | emix `GaussianMixture` | scikit-learn `GaussianMixture` |")
    print("|---|---|---|")
    for name, action in CASES:
        print(f"| {name} | {run(action, emix.GaussianMixture)} | {run(action, SklearnGM)} |")


if __name__ == "__main__":
    main()
