"""The benchmark behind ``benchmarks/bench_em.py``: emix against scikit-learn's GaussianMixture.

The method is in the docstring of ``benchmarks/bench_em.py``, the entry point. The modules:

* :mod:`.cases`: the cases (n x D, K), the synthetic data, the common starting points;
* :mod:`.machine`: the machine's description and its measured GEMM rate and bandwidth (the roofline);
* :mod:`.timing`: the per-iteration, whole-fit and peak-memory measures, the fit overhead;
* :mod:`.optimum`: the time-to-the-optimum measures (own rule, both oracle, first hit);
* :mod:`.results`: the JSON-lines result files (``--jsonl``);
* :mod:`.report`: the Markdown report, the picture and the progress lines;
* :mod:`.run`: one run, measure by measure; :mod:`.cli`: the command line.

Nothing is imported here, so that reading the results (:mod:`.report`) needs neither
scikit-learn nor matplotlib.
"""
