"""The EM engine: one pass over the data, the M-step, the driver, convergence rules, acceleration, the chunk pool.

Everything above the engine imports from this face, never from its modules.
"""

from .em import (
    CONVERGENCE_RULES,
    ConvergenceMonitor,
    EMResult,
    MixtureParams,
    PassResult,
    e_pass,
    log_joint,
    m_step,
    run_em,
    stats_from_responsibilities,
)
from .pool import ChunkPool, available_cpus, resolve_n_jobs

__all__ = [
    "CONVERGENCE_RULES",
    "ConvergenceMonitor",
    "EMResult",
    "MixtureParams",
    "PassResult",
    "e_pass",
    "log_joint",
    "m_step",
    "run_em",
    "stats_from_responsibilities",
    "ChunkPool",
    "available_cpus",
    "resolve_n_jobs",
]
