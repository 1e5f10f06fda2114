"""Print the noise-component numbers shown in docs/models.md and draw docs/images/noise-clusters.png.

Run from the repository root: ``PYTHONPATH=. python docs/scripts/noise_component.py``.
The data and mclust's numbers are those of tests/reference/mclust/make_noise.R.
"""

import csv
import warnings
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import emix

REF = Path("tests/reference/mclust")
rows = [r for r in csv.DictReader(open(REF / "noise_data.csv")) if r["dataset"] == "clusters2d"]
X = np.array([[float(r["x1"]), float(r["x2"])] for r in rows])
guess = np.array([r["noise"] == "TRUE" for r in rows])
best = next(r for r in csv.DictReader(open(REF / "noise_best.csv")) if r["dataset"] == "clusters2d")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", emix.selection.SelectionWarning)
    res = emix.select(X, range(1, 5), noise=True, noise_init=guess)
gm = res.best_estimator
print(
    f"emix:   best {res.best_model}, K={res.best_n_components}, BIC {res.best.bic:.3f}, "
    f"noise weight {gm.noise_weight_:.4f}, volume {float(gm.noise_volume_):.4f}"
)
print(
    f"mclust: best {best['model']}, K={best['G']}, BIC {float(best['bic']):.3f}, "
    f"noise weight {float(best['noise_pro']):.4f}"
)
print(
    "weights_", gm.weights_.round(4), "sum + noise_weight_ =", round(gm.weights_.sum() + gm.noise_weight_, 12)
)
labels = gm.predict(X)
print(
    "rows labelled noise:",
    int((labels == -1).sum()),
    "of",
    len(X),
    f"({int((labels[guess] == -1).sum())} of the {int(guess.sum())} drawn as noise)",
)
print(res.format_table("bic"))

fig = Figure(figsize=(5.5, 5))
ax = fig.subplots()
for k in range(gm.n_components):
    ax.scatter(*X[labels == k].T, s=10, label=f"component {k}")
ax.scatter(*X[labels == -1].T, s=18, marker="x", c="k", label="noise (-1)")
ax.set_title(f"{res.best_model}, K={res.best_n_components} with a noise component")
ax.legend(loc="upper right", fontsize=8)
fig.savefig("docs/images/noise-clusters.png", dpi=90)
