"""Each picture is rendered to a file and the file is checked: size, dimensions, pixels."""

import numpy as np
import pytest
from helpers import check_png
from PIL import Image

import emix
from emix.teach import plot
from emix.teach.trace import em_path, trace_lecture_example


@pytest.fixture(scope="module")
def faithful():
    X = emix.datasets.load_faithful()
    return X, emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(X)


def test_clusters_2d(tmp_path, faithful):
    X, gm = faithful
    path = tmp_path / "clusters.png"
    plot.save_figure(plot.plot_clusters(gm, X, feature_names=["eruptions", "waiting"]), path)
    px = check_png(path)
    assert px.shape[:2] == (480, 600)


def test_clusters_pairs_grid(tmp_path):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (80, 3)), rng.normal(4, 1, (80, 3))])
    gm = emix.GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
    path = tmp_path / "pairs.png"
    plot.save_figure(plot.plot_clusters(gm, X), path)
    check_png(path, (500, 500))


def test_clusters_standardised_units(tmp_path, faithful):
    X, _ = faithful
    loc, scale = X.mean(axis=0), X.std(axis=0)
    gm = emix.GaussianMixture(3, random_state=0).fit((X - loc) / scale)
    fig = plot.plot_clusters(gm, X, loc=loc, scale=scale)
    ax = fig.axes[0]
    assert ax.get_ylim()[0] > 30  # waiting minutes, not z-scores
    plot.save_figure(fig, tmp_path / "s.png")
    check_png(tmp_path / "s.png")


def test_convergence(tmp_path, faithful):
    _, gm = faithful
    path = tmp_path / "conv.png"
    plot.save_figure(plot.plot_convergence(gm.history_), path)
    check_png(path)


def test_trace_picture(tmp_path):
    path = tmp_path / "trace.png"
    plot.save_figure(plot.plot_trace(trace_lecture_example(3)), path)
    check_png(path)


def test_animation(tmp_path, faithful):
    X, gm = faithful
    path = tmp_path / "em.gif"
    frames = plot.animate_em(X, em_path(gm, X), path, covariance_type="tied", max_frames=8)
    assert 2 <= frames <= 8
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == frames
        im.seek(frames - 1)
        px = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert (px < 245).any(axis=2).mean() > 0.02


def test_selection_criterion_plot(tmp_path):
    X = emix.datasets.load_faithful()
    res = emix.select(X, n_components=[1, 2, 3, 4], models=["EII", "VVI", "EEE", "VVV"], n_jobs=1)
    path = tmp_path / "bic.png"
    plot.save_figure(plot.plot_criterion(res), path)
    px = check_png(path, (600, 400))
    # four coloured model lines: several distinct saturated hues are present
    sat = px[((px.max(axis=2) - px.min(axis=2)) > 60)]
    hues = {tuple((c // 64).tolist()) for c in sat}
    assert len(hues) >= 4
