"""Pictures of mixtures and of EM at work (matplotlib and PIL, imported only when drawing).

Every function returns a :class:`matplotlib.figure.Figure` built without
``pyplot`` (so nothing needs a display) or, for the animation, writes a file;
:func:`save_figure` writes a figure atomically. One module per kind of picture:

==================  ==========================================================================
module              pictures
==================  ==========================================================================
``clusters``        :func:`plot_clusters`, :func:`plot_responsibilities` (colour blends),
                    :func:`plot_trace_responsibilities`
``staircase``       :func:`plot_trace` (the E/M staircase and the gains per iteration),
                    :func:`plot_convergence`
``elbo``            :func:`plot_bound_slice` (the bound touching ln p, through one M-step)
``animation``       :func:`animate_em` (a GIF, for every covariance model)
``images``          :func:`plot_component_images`, :func:`plot_trace_images` (digits)
``ancestral``       :func:`plot_ancestral` (z from π, then x from the component)
``selection``       :func:`plot_criterion` (BIC and the others against K)
``uncertainty``     :func:`plot_posterior_weights`, :func:`plot_intervals` (Bayesian weights,
                    bootstrap)
``_base``           colours, :func:`blend_colours`, :func:`save_figure`, GIF writing
==================  ==========================================================================
"""

from ._base import blend_colours, save_figure
from .ancestral import plot_ancestral
from .animation import animate_em
from .clusters import plot_clusters, plot_responsibilities, plot_trace_responsibilities
from .elbo import plot_bound_slice
from .images import plot_component_images, plot_trace_images
from .selection import plot_criterion
from .staircase import plot_convergence, plot_trace
from .uncertainty import plot_intervals, plot_posterior_weights

__all__ = [
    "plot_clusters",
    "plot_responsibilities",
    "plot_trace_responsibilities",
    "plot_convergence",
    "plot_trace",
    "plot_bound_slice",
    "animate_em",
    "plot_component_images",
    "plot_trace_images",
    "plot_ancestral",
    "plot_criterion",
    "plot_posterior_weights",
    "plot_intervals",
    "blend_colours",
    "save_figure",
]
