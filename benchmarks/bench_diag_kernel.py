import time, numpy as np, numba as nb
from emix._kernels.numba_gaussian import diag_fused_shifted
for (n, d, k) in ((200000, 16, 8), (100000, 64, 16)):
  for dt in (np.float64, np.float32):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(dt)
    g = np.zeros(d, dt); a = (rng.normal(size=(k, d)) * 0.1).astype(dt); b = (-0.5 * rng.uniform(0.5, 2, size=(k, d))).astype(dt)
    const = rng.normal(size=k); w = np.empty(0)
    res = {}
    for mom in (True, False):
        ts = []
        for _ in range(5):
            nk, t1, t2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d))
            t = time.process_time(); diag_fused_shifted(X, w, g, a, b, const, nk, t1, t2, mom); ts.append(time.process_time() - t)
        res[mom] = min(ts)
    print(n, d, k, np.dtype(dt).name, f"all {res[True]*1e3:.2f} ms, no moments {res[False]*1e3:.2f} ms")
