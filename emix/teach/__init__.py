"""EM step by step for learning and teaching, and the pictures.

==========================  ==============================================================
name                        what it does
==========================  ==============================================================
:func:`trace_em`            EM one step at a time for any family: q, ln p, L(q, θ), KL, Q
:func:`bound`               ln p, L(q, θ), KL(q ‖ posterior) and Q for any q: Jensen's gap
:func:`bound_slice`         ln p and L(q, θ) along the line through one M-step
:func:`ancestral_sample`    z from π, then x from the component: the latent view
:func:`em_path`             the parameters after each iteration of an estimator's own fit
:mod:`emix.teach.plot`      the pictures (matplotlib, imported only when drawing)
==========================  ==============================================================

The numbers come from the library's engine (``log_joint``, ``e_pass``,
``m_step``) and the family's own methods; nothing here prints.
"""

from .ancestral import AncestralSample, ancestral_sample
from .bound import Bound, BoundSlice, bound, bound_slice
from .records import EMTrace, TraceStep
from .trace import em_path, trace_em, trace_lecture_example

__all__ = [
    "trace_em",
    "trace_lecture_example",
    "em_path",
    "EMTrace",
    "TraceStep",
    "bound",
    "Bound",
    "bound_slice",
    "BoundSlice",
    "ancestral_sample",
    "AncestralSample",
]
