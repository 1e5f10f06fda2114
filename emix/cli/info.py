"""``emix info``: the summary of a model file."""

from __future__ import annotations

from .console import out
from .files import load_model
from .options import ModelArg
from .summary import fit_stats, summary

EPILOG = "[bold]Example[/]\n\n  emix info model.emix"


def info(model_path: ModelArg) -> None:
    """Print the summary of a model file: components, log-likelihood, BIC, AIC, convergence."""
    model, cols, scaling, cli = load_model(model_path)

    def num(key: str) -> float | None:
        v = cli.get(key)
        return float(v) if isinstance(v, (int, float)) else None

    n = cli.get("n_samples") if isinstance(cli.get("n_samples"), int) else None
    ll = num("log_likelihood")
    if ll is None:
        ll = float(model.log_likelihood_)
    stats = fit_stats(model, n, ll, num("bic"), num("aic"), scaling)
    if isinstance(cli.get("data"), str):
        stats = {"fitted to": cli["data"], **stats}
    title = f"{type(model).__name__}, K={model.n_components}, {model.n_features_in_} features ({model_path})"
    console = out()
    for part in summary(model, cols, scaling, stats, title):
        console.print(part)
