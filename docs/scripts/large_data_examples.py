"""The Python examples of docs/large-data.md, as they are printed there.

Run from the repository root: ``PYTHONPATH=. python docs/scripts/large_data_examples.py``
(writes ``parts/``, ``fit.ckpt`` in a temporary folder; a few seconds on two cores).
"""

import os
import tempfile
import warnings

import numpy as np
import pandas as pd

import emix

warnings.simplefilter("ignore", emix.ConvergenceWarning)
os.chdir(tempfile.mkdtemp())

# -- data ------------------------------------------------------------------------------------------
rng = np.random.default_rng(0)
n = 200_000
z = rng.random(n) < 0.4
X = np.where(z[:, None], rng.normal(0, 1, (n, 3)), rng.normal(4, 0.7, (n, 3))) + 1e5

# -- many files ------------------------------------------------------------------------------------
os.mkdir("parts")
for i, part in enumerate(np.array_split(X, 4)):
    pd.DataFrame(part, columns=["a", "b", "c"]).to_parquet(f"parts/part-{i:02d}.parquet")
src = emix.sources.file_source("parts/*.parquet")
print(src, src.n_samples)
gm = emix.GaussianMixture(2, random_state=0).fit(src)
print(gm.log_likelihood_)

# -- online EM -------------------------------------------------------------------------------------
online = emix.GaussianMixture(2, random_state=0, online_step=0.7)
for epoch in range(3):
    order = rng.permutation(n)
    for start in range(0, n, 2_000):  # batches of 1 % of the rows, in random order
        online.partial_fit(X[order[start : start + 2_000]])
    print(epoch + 1, online.n_iter_, online.score(X))
batch = emix.GaussianMixture(2, random_state=0).fit(X)
print(batch.score(X) - online.score(X), np.abs(batch.means_ - online.means_).max())

# -- checkpoints and progress ----------------------------------------------------------------------


def show(p):
    print(
        f"init {p.restart + 1}/{p.n_restarts}, pass {p.iteration}/{p.max_iter}: "
        f"{p.rows_per_second:,.0f} rows/s, log-likelihood {p.log_likelihood:.2f}, "
        f"at most {p.seconds_left:.1f} s left"
    )


gm = emix.GaussianMixture(2, n_init=2, random_state=0, checkpoint="fit.ckpt")
gm.fit(X, progress=show)
again = emix.GaussianMixture(2, n_init=2, random_state=0, checkpoint="fit.ckpt").fit(X)  # at once
print(np.array_equal(again.means_, gm.means_))
try:
    emix.GaussianMixture(3, random_state=0, checkpoint="fit.ckpt").fit(X[:-5])
except emix.CheckpointMismatchError as exc:
    print(exc)

# -- an online fit with a checkpoint ----------------------------------------------------------------


def epochs(model, n_epochs):
    order_rng = np.random.default_rng(1)
    for _ in range(n_epochs):
        order = order_rng.permutation(n)
        for start in range(0, n, 20_000):
            model.partial_fit(X[order[start : start + 20_000]])
    return model


whole = epochs(emix.GaussianMixture(2, random_state=0), 2)
epochs(emix.GaussianMixture(2, random_state=0, checkpoint="online.ckpt"), 1)  # stopped after one epoch
resumed = epochs(emix.GaussianMixture(2, random_state=0, checkpoint="online.ckpt"), 2)
print(resumed.n_iter_, np.array_equal(resumed.means_, whole.means_))

# -- Dask ------------------------------------------------------------------------------------------
import dask.array as da  # noqa: E402

dX = da.from_array(X, chunks=(50_000, 3))
labels = batch.predict(dX)
print(labels)
print(labels[:8].compute(), batch.predict_proba(dX).shape)
