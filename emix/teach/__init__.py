"""EM step by step for learning and teaching, and the pictures.

:mod:`emix.teach.trace` records EM one E-step and one M-step at a time (the
responsibilities, the parameters, the log-likelihood, the lower bound and the
gap between them); :mod:`emix.teach.plot` draws fitted mixtures, the
convergence of a fit, a trace and a model selection.
"""
