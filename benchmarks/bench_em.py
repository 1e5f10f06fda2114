"""emix against scikit-learn's GaussianMixture, in the same process.

Usage::

    PYTHONPATH=. python benchmarks/bench_em.py            # full run (10 x 3, 1M x 8 at 6: about 9 minutes on 2 idle cores)
    PYTHONPATH=. python benchmarks/bench_em.py --quick    # under a minute
    PYTHONPATH=. python benchmarks/bench_em.py --out docs # write docs/benchmarks.md and the plot
    PYTHONPATH=. python benchmarks/bench_em.py --cases 0,1 --iters 10 --repeats 3  # round 3's run D
    # round 4's run E: per-iteration part, then the time-to-optimum part, then the report
    PYTHONPATH=. python benchmarks/bench_em.py --iters 10 --repeats 3 --iters-large 6 --skip-optimum --jsonl e1.jsonl
    PYTHONPATH=. python benchmarks/bench_em.py --only-optimum --jsonl e2.jsonl
    PYTHONPATH=. python benchmarks/bench_em.py --render e1.jsonl,e2.jsonl --out docs

The code is in the package ``emix_bench`` beside this script (cases, machine, timing,
optimum, results, report, run, cli); this file is its entry point.

With the default 4 iterations x 2 repeats the median still carries the first
iterations' warm-up; round 3 used ``--iters 10 --repeats 3``.

What is measured, for every case (n x D, K), covariance type and dtype:

* **per iteration**: both estimators start from the same ``weights_init``,
  ``means_init`` and ``precisions_init``, run the same number of iterations
  with ``tol=0`` (emix with ``accelerate=False``), and the time between
  consecutive M-steps is recorded; the median over iterations and repeats is
  reported. Runs of the two libraries alternate.
* **whole fit**: wall-clock of ``fit`` (validation, iterations, final pass).
* **peak extra memory**: ``tracemalloc`` peak during ``fit`` above the
  allocation level before it (NumPy reports its buffers to tracemalloc).
* **agreement**: the log-likelihood of the last iteration must agree to 1e-9
  relative in float64 (reported for float32 too).
* **roofline bound**: the iteration's FLOPs over the measured matrix-multiply
  rate plus its ``n (K + 1)`` exponentials and logarithms at the faster of
  NumPy's ``exp`` and emix's own exponential (``emix_bench.machine.exp_rates``),
  or the data's bytes over the measured memory bandwidth, whichever is larger
  (the other element-wise work is not counted, so the bound is optimistic).

Time to the optimum: Old Faithful (K=3, tied and full) and 200k x 16, K=8
(full), both libraries from the same initial parameters (scikit-learn's fit
with ``max_iter=1, random_state=0``); the optimum is scikit-learn's fit with
``tol=1e-12``; "reached" means a log-likelihood within 1e-6 relative of it.
Three measures (best of the repeats each):

* **own rule vs oracle**: emix with its defaults (Aitken stopping rule with
  ``rtol=1e-8``, SQUAREM), scikit-learn with the largest ``tol`` of 1e-3,
  1e-4, ... that still ends within 1e-6 (an oracle choice in its favour);
  whole ``fit``.
* **both oracle**: the same, but emix also gets its oracle: the largest
  ``rtol`` of 1e-3, 1e-4, ... that still ends within 1e-6. Symmetric.
* **first hit**: independent of any stopping rule. Each library runs with a
  very tight tolerance (emix ``rtol=1e-12``, scikit-learn ``tol=1e-12``); a
  hook records the wall time from the call of ``fit`` to the end of the first
  pass whose log-likelihood is within 1e-6 (emix: the ``callback`` of
  ``emix.engine.run_em``, called after each pass and its M-step with that pass's
  log-likelihood, rejected SQUAREM trial passes included in the time;
  scikit-learn: a wrapper of ``_e_step``, whose mean log-likelihood is that of
  the current parameters) and then ends the run by an exception. The hooks add
  one comparison per pass. emix's trajectory is that of its tight run (its
  driver stops extrapolating while the stopping rule "settles", which depends
  on ``rtol``), so a looser oracle ``rtol`` can reach 1e-6 in fewer passes.
"""

import sys

from emix_bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
