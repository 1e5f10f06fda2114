"""The teaching pictures, rendered to real files and checked: size, dimensions, pixels, frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import check_png
from PIL import Image
from teach_cases import cases

import emix
from emix.families.gaussian import COVARIANCE_MODELS
from emix.teach import ancestral_sample, em_path, plot, trace_em, trace_lecture_example

CASES = cases()


@pytest.fixture(scope="module")
def faithful():
    return emix.datasets.load_faithful()


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return (load_digits().data[:500] > 7).astype(float)


def colours_present(px: np.ndarray, rgb: np.ndarray, tol: int = 40) -> int:
    """How many of the colours ``rgb`` (K, 3 in [0, 1]) appear among the pixels."""
    flat = px.reshape(-1, 3)
    return sum(bool((np.abs(flat - 255 * c).max(axis=1) < tol).any()) for c in rgb)


def test_blend_colours_mix_the_components():
    rgb = plot.blend_colours(np.eye(3))
    np.testing.assert_allclose(plot.blend_colours([[0.5, 0.5, 0.0]])[0], (rgb[0] + rgb[1]) / 2)
    assert plot.blend_colours(np.full((4, 2), 0.5)).shape == (4, 3)


def test_responsibilities_as_colour_blends(tmp_path, faithful):
    gm = emix.GaussianMixture(2, random_state=0).fit(faithful)
    path = tmp_path / "blend.png"
    plot.save_figure(
        plot.plot_responsibilities(faithful, model=gm, feature_names=["eruptions", "waiting"]), path
    )
    px = check_png(path, (500, 400))
    assert colours_present(px, plot.blend_colours(np.eye(2))) == 2
    # an even split: every point drawn in the one mixed colour
    half = np.full((faithful.shape[0], 2), 0.5)
    plot.save_figure(plot.plot_responsibilities(faithful, half), tmp_path / "half.png")
    with Image.open(tmp_path / "half.png") as im:
        px = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert colours_present(px, plot.blend_colours([[0.5, 0.5]]), tol=25) == 1


def test_responsibilities_of_one_feature_and_of_a_trace(tmp_path, faithful):
    X = faithful[:, :1]
    gm = emix.GaussianMixture(2, random_state=0).fit(X)
    plot.save_figure(plot.plot_responsibilities(X, model=gm), tmp_path / "one.png")
    check_png(tmp_path / "one.png")
    tr = trace_em(faithful[::4], 3, n_iter=4, covariance_type="tied")
    plot.save_figure(plot.plot_trace_responsibilities(tr), tmp_path / "trace.png")
    check_png(tmp_path / "trace.png", (600, 500))
    with pytest.raises(emix.InvalidParameterError, match="give the responsibilities q"):
        plot.plot_responsibilities(faithful)


@pytest.mark.parametrize("name", ["gaussian-full", "bernoulli", "poisson", "student", "product"])
def test_staircase_for_every_family(tmp_path, name):
    X, kw = CASES[name]
    tr = trace_em(X, 2, n_iter=5, **kw)
    path = tmp_path / "stairs.png"
    plot.save_figure(plot.plot_trace(tr), path)
    px = check_png(path, (600, 550))
    assert px.shape[:2] == (620, 660)


def test_bound_slice_picture(tmp_path):
    path = tmp_path / "slice.png"
    plot.save_figure(plot.plot_bound_slice(trace_lecture_example(2), 1), path)
    check_png(path, (600, 400))


@pytest.mark.parametrize("covariance_type", list(COVARIANCE_MODELS))
def test_an_animation_for_every_covariance_model(tmp_path, faithful, covariance_type):
    gm = emix.GaussianMixture(3, covariance_type=covariance_type, random_state=0, max_iter=12, tol=1e-8)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm.fit(faithful)
            path = em_path(gm, faithful)
    out = tmp_path / f"em-{covariance_type}.gif"
    frames = plot.animate_em(faithful, path, out, covariance_type=covariance_type, max_frames=4, dpi=40)
    assert 2 <= frames <= 4
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == frames and im.size == (200, 160)
        im.seek(frames - 1)
        px = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert (px < 245).any(axis=2).mean() > 0.05
    assert ((px.max(axis=2) - px.min(axis=2)) > 60).mean() > 0.005


def test_digits_component_means_as_images(tmp_path, digits):
    bm = emix.BernoulliMixture(6, random_state=0).fit(digits)
    path = tmp_path / "means.png"
    plot.save_figure(plot.plot_component_images(bm.probabilities_, (8, 8), weights=bm.weights_), path)
    px = check_png(path, (500, 100))
    dark = (px.max(axis=2) < 60).mean()
    assert dark > 0.03  # the strokes of the digits
    tr = trace_em(digits, 6, family="bernoulli", n_iter=5)
    plot.save_figure(plot.plot_trace_images(tr, (8, 8)), tmp_path / "by-iteration.png")
    check_png(tmp_path / "by-iteration.png", (500, 400))
    with pytest.raises(emix.InvalidParameterError, match="image_shape 8x7 has 56 pixels"):
        plot.plot_component_images(bm.probabilities_, (8, 7))
    with pytest.raises(emix.InvalidParameterError, match="no array of the trace has 63 values"):
        plot.plot_trace_images(tr, (9, 7))


@pytest.mark.parametrize("name", sorted(CASES))
def test_ancestral_picture_for_every_family(tmp_path, name):
    X, kw = CASES[name]
    tr = trace_em(X, 2, n_iter=2, **kw)
    sample = ancestral_sample((tr.family, tr.steps[-1].params), 150, random_state=0)
    path = tmp_path / "ancestral.png"
    plot.save_figure(plot.plot_ancestral(sample), path)
    px = check_png(path, (900, 400))
    assert colours_present(px, plot.blend_colours(np.eye(2))) == 2


def test_ancestral_picture_of_digits(tmp_path, digits):
    bm = emix.BernoulliMixture(4, random_state=0).fit(digits)
    path = tmp_path / "ancestral-digits.png"
    plot.save_figure(plot.plot_ancestral(ancestral_sample(bm, 60, random_state=0), image_shape=(8, 8)), path)
    check_png(path, (900, 400))


def test_teach_imports_no_drawing_library():
    import subprocess
    import sys

    code = "import sys, emix, emix.teach, emix.teach.plot; print(sorted(m for m in ('matplotlib', 'PIL') if m in sys.modules))"
    root = str(Path(__file__).resolve().parent.parent)  # this checkout, not an installed copy
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    ).stdout
    assert out.strip() == "[]"
