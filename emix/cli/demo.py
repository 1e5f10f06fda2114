"""``emix demo``: fit the bundled Old Faithful data and draw it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from .console import out as out_console
from .files import Scaling, write_model
from .summary import criteria, fit_stats, summary

EPILOG = "[bold]Examples[/]\n\n  emix demo\n\n  emix demo --out /tmp/emix-demo --no-animate"


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the model and the pictures.")] = Path(
        "emix-demo"
    ),
    animate: Annotated[bool, typer.Option("--animate/--no-animate", help="Write the EM animation.")] = True,
) -> None:
    """Fit the bundled Old Faithful data (K=3, tied covariance) and draw it.

    Writes into OUT: faithful.csv, model.emix, clusters.png (clusters, 1 and
    2 sigma ellipses, density contours), convergence.png, em.gif (EM
    iteration by iteration) and trace.png (the lecture example's E/M staircase).
    """
    import pandas as pd

    from ..datasets import FAITHFUL_COLUMNS, load_faithful
    from ..estimators.gaussian import GaussianMixture
    from ..sources.tables import write_table

    out.mkdir(parents=True, exist_ok=True)
    X = load_faithful()
    write_table(pd.DataFrame(X, columns=list(FAITHFUL_COLUMNS)), out / "faithful.csv")
    model = GaussianMixture(3, covariance_type="tied", tol=1e-10, max_iter=1000, random_state=0)
    model.fit(X)
    none = Scaling(None, None)
    ll, bic, aic = criteria(model, X, none)
    write_model(model, out / "model.emix", FAITHFUL_COLUMNS, none, X.shape[0], "faithful.csv", ll, bic, aic)
    console = out_console()
    console.print(f"Old Faithful: {X.shape[0]} eruptions, columns {', '.join(FAITHFUL_COLUMNS)}")
    for part in summary(
        model,
        FAITHFUL_COLUMNS,
        none,
        fit_stats(model, X.shape[0], ll, bic, aic, none),
        "GaussianMixture, K=3, tied covariance",
    ):
        console.print(part)
    console.print("(mclust's optimum for this model, EEE with K=3: log-likelihood -1126.315928)")
    written = ["faithful.csv", "model.emix", *_draw(model, X, out, animate)]
    console.print(f"wrote {out}/: {', '.join(written)}")


def _draw(model: Any, X: np.ndarray, out: Path, animate: bool) -> list[str]:
    """Write the demo's pictures into ``out``.

    Parameters
    ----------
    model : GaussianMixture
        The model fitted to ``X``.
    X : ndarray of shape (272, 2)
        The Old Faithful data.
    out : Path
        The folder to write into.
    animate : bool
        Whether to write the EM animation too.

    Returns
    -------
    list of str
        The names of the files written.
    """
    from ..datasets import FAITHFUL_COLUMNS
    from ..teach.plot import animate_em, plot_clusters, plot_convergence, plot_trace, save_figure
    from ..teach.trace import em_path, trace_lecture_example

    save_figure(
        plot_clusters(
            model, X, feature_names=FAITHFUL_COLUMNS, title="Old Faithful, 3 components (tied covariance)"
        ),
        out / "clusters.png",
    )
    save_figure(plot_convergence(model.history_), out / "convergence.png")
    save_figure(plot_trace(trace_lecture_example(3)), out / "trace.png")
    written = ["clusters.png", "convergence.png", "trace.png"]
    if animate:
        path = em_path(model, X)
        animate_em(
            X, path, out / "em.gif", covariance_type="tied", feature_names=FAITHFUL_COLUMNS, max_frames=40
        )
        written.append("em.gif")
    return written
