"""The mclust reference kit (``tests/reference/mclust/``) as Python objects.

The tables were written by R's mclust (``make_reference.R``; its README says
what each holds). This module only reads them, with the standard library and
numpy, so that tests can compare ``emix.select`` with ``mclustBIC`` cell by
cell without R::

    from mclust_reference import load

    ref = load("iris")
    ref.cells["VEV", 2].bic          # mclust's sign: larger is better
    ref.best_bic                     # ('VEV', 2)
    ref.starts[3]                    # mclust's starting partition for G = 3
    ref.fits["VEV", 2].means         # (G, d)

Cells are keyed by mclust's model name; for 1-D data mclust has only ``E``
and ``V``, and :func:`mclust_model` maps emix's 14 names onto them.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from functools import cache
from pathlib import Path

import numpy as np

REFERENCE_DIR = Path(__file__).resolve().parent / "reference" / "mclust"

#: mclust's 14 multivariate models, in its order.
MODELS = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV")
#: mclust's 1-D models.
MODELS_1D = ("E", "V")
#: The numbers of components of every grid.
G_GRID = tuple(range(1, 10))


def _rows(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, newline="") as fh:
        return list(csv.DictReader(fh))


def _num(text: str) -> float:
    """A number of the kit; ``NA`` (R's missing value) is ``nan``."""
    return math.nan if text == "NA" else float(text)


def _int(text: str) -> int | None:
    return None if text == "NA" else int(text)


def mclust_model(model: str, d: int) -> str:
    """The mclust model that emix's ``model`` is for ``d`` features.

    In 1-D every model with an equal volume (first letter ``E``) is mclust's
    ``E`` and every one with a variable volume is ``V``; otherwise the name is
    unchanged.
    """
    if d == 1 and len(model) == 3:
        return model[0]
    return model


@dataclasses.dataclass(frozen=True)
class Cell:
    """One (model, G) of ``mclustBIC``/``mclustICL`` (criteria: larger is better)."""

    model: str
    G: int
    bic: float
    loglik: float
    df: int
    icl: float
    na: bool
    rc: int


@dataclasses.dataclass(frozen=True)
class Fit:
    """Fitted parameters of one cell (components in mclust's order)."""

    model: str
    G: int
    loglik: float
    bic: float
    df: int
    icl: float
    weights: np.ndarray  # (G,)
    means: np.ndarray  # (G, d)
    covariances: np.ndarray  # (G, d, d)
    sizes: np.ndarray  # (G,) rows per MAP class


@dataclasses.dataclass(frozen=True)
class Reference:
    """Everything the kit holds about one data set."""

    name: str
    X: np.ndarray  # (n, d) float64, the rows mclust was given
    labels: np.ndarray | None  # (n,) str, or None
    columns: tuple[str, ...]
    label_column: str | None
    models: tuple[str, ...]  # mclust's models for these data
    init: str  # 'hc_VVV_SVD' or 'qclass'
    cells: dict[tuple[str, int], Cell]
    top_bic: tuple[tuple[str, int, float], ...]  # three best (model, G, BIC)
    top_icl: tuple[tuple[str, int, float], ...]
    starts: dict[int, np.ndarray]  # G -> (n,) int labels 1..G
    fits: dict[tuple[str, int], Fit]
    timing: dict[str, str]  # a row of timings.csv

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def best_bic(self) -> tuple[str, int]:
        """mclust's chosen (model, G) by BIC."""
        return self.top_bic[0][:2]

    @property
    def best_icl(self) -> tuple[str, int]:
        """mclust's chosen (model, G) by ICL."""
        return self.top_icl[0][:2]

    def cell(self, model: str, G: int) -> Cell:
        """The cell for an emix model name (1-D names mapped by :func:`mclust_model`)."""
        return self.cells[mclust_model(model, self.d), G]

    def table(self, field: str = "bic") -> np.ndarray:
        """A field as a grid like mclust's print: rows G = 1..9, columns :attr:`models`."""
        out = np.full((len(G_GRID), len(self.models)), np.nan)
        for i, g in enumerate(G_GRID):
            for j, m in enumerate(self.models):
                out[i, j] = getattr(self.cells[m, g], field)
        return out


def names() -> tuple[str, ...]:
    """The data sets of the kit, in its order."""
    return tuple(r["dataset"] for r in _rows("datasets.csv"))


@cache
def _all_tables() -> dict[str, list[dict[str, str]]]:
    return {t: _rows(f"{t}.csv") for t in ("datasets", "bic_grid", "top", "starts", "fits", "timings")}


def read_data(filename: str, d: int, labelled: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A data file of the kit: the first ``d`` columns as float64, and the labels."""
    with open(REFERENCE_DIR / filename, newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = list(reader)
    X = np.array([[float(v) for v in r[:d]] for r in rows], dtype=np.float64).reshape(len(rows), d)
    y = np.array([r[d] for r in rows], dtype=str) if labelled else None
    return X, y


@cache
def load(name: str) -> Reference:
    """The reference of one data set (cached; treat the arrays as read-only)."""
    tables = _all_tables()
    (meta,) = [r for r in tables["datasets"] if r["dataset"] == name]
    d = int(meta["d"])
    label_column = meta["label_column"] or None
    X, labels = read_data(meta["file"], d, label_column is not None)

    cells = {}
    for r in tables["bic_grid"]:
        if r["dataset"] != name:
            continue
        c = Cell(
            model=r["model"],
            G=int(r["G"]),
            bic=_num(r["bic"]),
            loglik=_num(r["loglik"]),
            df=int(r["df"]),
            icl=_num(r["icl"]),
            na=r["na"] == "1",
            rc=int(r["rc"]),
        )
        cells[c.model, c.G] = c

    top = {"BIC": [], "ICL": []}
    for r in sorted((r for r in tables["top"] if r["dataset"] == name), key=lambda r: int(r["rank"])):
        top[r["criterion"]].append((r["model"], int(r["G"]), _num(r["value"])))

    start_rows = [r for r in tables["starts"] if r["dataset"] == name]
    start_rows.sort(key=lambda r: int(r["row"]))
    starts = {g: np.array([int(r[f"G{g}"]) for r in start_rows]) for g in G_GRID}

    fits = {}
    by_cell: dict[tuple[str, int], list[dict[str, str]]] = {}
    for r in tables["fits"]:
        if r["dataset"] == name:
            by_cell.setdefault((r["model"], int(r["G"])), []).append(r)
    for (model, g), rs in by_cell.items():
        scalars = {r["param"]: _num(r["value"]) for r in rs if r["k"] == "NA"}
        weights = np.full(g, np.nan)
        means = np.full((g, d), np.nan)
        covs = np.full((g, d, d), np.nan)
        sizes = np.zeros(g, dtype=int)
        for r in rs:
            k, i, j = _int(r["k"]), _int(r["i"]), _int(r["j"])
            v = _num(r["value"])
            if r["param"] == "pro":
                weights[k - 1] = v
            elif r["param"] == "mean":
                means[k - 1, i - 1] = v
            elif r["param"] == "sigma":
                covs[k - 1, i - 1, j - 1] = v
            elif r["param"] == "size":
                sizes[k - 1] = int(v)
        fits[model, g] = Fit(
            model=model,
            G=g,
            loglik=scalars["loglik"],
            bic=scalars["bic"],
            df=int(scalars["df"]),
            icl=scalars["icl"],
            weights=weights,
            means=means,
            covariances=covs,
            sizes=sizes,
        )

    (timing,) = [r for r in tables["timings"] if r["dataset"] == name]
    return Reference(
        name=name,
        X=X,
        labels=labels,
        columns=tuple(meta["columns"].split(";")),
        label_column=label_column,
        models=tuple(meta["models"].split(";")),
        init=meta["init"],
        cells=cells,
        top_bic=tuple(top["BIC"]),
        top_icl=tuple(top["ICL"]),
        starts=starts,
        fits=fits,
        timing=timing,
    )
