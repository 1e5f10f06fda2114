"""Draw the pictures of docs/teaching.md into docs/images/ (run from the repository root).

    python docs/scripts/teaching_images.py

Every picture comes from emix.teach.plot, on the bundled data and scikit-learn's digits.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

import emix
from emix.teach import ancestral_sample, em_path, plot, trace_em, trace_lecture_example

OUT = Path(__file__).resolve().parents[1] / "images"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    plot.save_figure(plot.plot_trace(trace_lecture_example(4)), OUT / "trace-staircase.png")

    rng = np.random.default_rng(1)
    X1 = np.concatenate([rng.normal(0, 1, 40), rng.normal(2.5, 1, 60)])[:, None]
    start = dict(weights_init=[0.5, 0.5], means_init=[[-1.0], [1.0]], precisions_init=[[[1.0]], [[1.0]]])
    plot.save_figure(
        plot.plot_bound_slice(trace_em(X1, 2, n_iter=3, **start), 3), OUT / "teach-bound-slice.png"
    )

    faithful = emix.datasets.load_faithful()
    names = ["eruptions", "waiting"]
    gm = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(faithful)
    plot.save_figure(
        plot.plot_responsibilities(faithful, model=gm, feature_names=names), OUT / "teach-blend.png"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plot.animate_em(
            faithful,
            em_path(gm, faithful),
            OUT / "teach-em-tied.gif",
            covariance_type="tied",
            max_frames=12,
            dpi=60,
        )

    digits = (load_digits().data > 7).astype(float)
    bm = emix.BernoulliMixture(10, random_state=0).fit(digits)
    means = plot.plot_component_images(
        bm.probabilities_, (8, 8), weights=bm.weights_, title="the component means"
    )
    plot.save_figure(means, OUT / "teach-digits-means.png")
    tr = trace_em(digits, 10, family="bernoulli", n_iter=8, random_state=0)
    plot.save_figure(plot.plot_trace(tr), OUT / "teach-digits-staircase.png")
    sample = ancestral_sample(bm, 200, random_state=0)
    plot.save_figure(
        plot.plot_ancestral(sample, image_shape=(8, 8), shown=24), OUT / "teach-ancestral-digits.png"
    )


if __name__ == "__main__":
    main()
