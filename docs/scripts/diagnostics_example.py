"""What diagnostics_ and strict=True say of a fit with more components than distinct rows
(docs/reliability.md shows this output: python docs/scripts/diagnostics_example.py)."""

import warnings

import numpy as np

import emix

X = np.repeat([[0.0, 0.0], [5.0, 5.0]], 10, axis=0)  # two distinct rows
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    gm = emix.GaussianMixture(3, random_state=0).fit(X)  # k-means leaves one centre empty
for w in caught:
    print(f"{w.category.__name__}: {w.message}")
print()
print(gm.diagnostics_)
print()
try:
    emix.GaussianMixture(3, init_params="random", random_state=0, strict=True).fit(X)
except emix.DiagnosticsError as exc:
    print(f"{type(exc).__name__}: {exc}")
