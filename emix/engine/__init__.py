"""The EM engine: one pass over the data, the M-step, the driver, convergence rules, acceleration, the chunk pool.

Everything above the engine imports from this face, never from its modules:

- :mod:`.results`: the value types (:class:`MixtureParams`, :class:`PassResult`, :class:`EMResult`);
- :mod:`.passes`: one pass (E-step and statistics, :func:`e_pass`) and the M-step;
- :mod:`.posterior`: log-densities, responsibilities and labels of new rows (far rows too);
- :mod:`.hooks`: the families' optional weights step and objective term;
- :mod:`.convergence`: the stopping rules (:class:`ConvergenceMonitor`);
- :mod:`.squarem`: SQUAREM acceleration;
- :mod:`.driver`: :func:`run_em`;
- :mod:`.pool`: the chunk thread pool;
- :mod:`.online`: online (stepwise) EM, :func:`online_update`;
- :mod:`.checkpoint`: a run's state at an iteration boundary, and its file.
"""

from .checkpoint import (  # checkpoints of a run
    capture_run,
    get_params,
    get_result,
    get_stats,
    put_params,
    put_result,
    put_stats,
    read_checkpoint,
    restore_run,
    write_checkpoint,
)
from .convergence import CONVERGENCE_RULES, ConvergenceMonitor
from .driver import run_em
from .online import OnlineState, online_update, step_size  # online EM
from .passes import degenerate_components, e_pass, log_joint, m_step, stats_from_responsibilities
from .pool import ChunkPool, available_cpus, resolve_n_jobs, single_threaded_blas
from .posterior import labels, log_density, responsibilities  # predictions, far rows included
from .results import EMResult, MixtureParams, PassResult

__all__ = [
    "CONVERGENCE_RULES",
    "ConvergenceMonitor",
    "degenerate_components",
    "EMResult",
    "MixtureParams",
    "PassResult",
    "e_pass",
    "log_joint",
    "log_density",
    "labels",
    "responsibilities",
    "m_step",
    "run_em",
    "stats_from_responsibilities",
    "ChunkPool",
    "available_cpus",
    "resolve_n_jobs",
    "OnlineState",
    "online_update",
    "step_size",
    "capture_run",
    "restore_run",
    "read_checkpoint",
    "write_checkpoint",
    "put_result",
    "get_result",
    "get_params",
    "put_params",
    "put_stats",
    "get_stats",
    "single_threaded_blas",
]
