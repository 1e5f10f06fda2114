"""``emix trace`` for every family and ``emix sample --picture``, through the real Typer app, on real files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import check_png
from teach_cases import cases
from typer.testing import CliRunner

import emix
from emix.cli import app

CASES = cases()
#: the families a name on the command line gives, and the data of each
BY_NAME = {
    "gaussian": "gaussian-full",
    "bernoulli": "bernoulli",
    "categorical": "categorical",
    "poisson": "poisson",
    "exponential": "exponential",
    "student": "student",
}


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def stderr(result):
    try:
        return result.stderr
    except ValueError:  # older click mixes the streams
        return result.output


def write(tmp_path, name, X):
    path = tmp_path / f"{name}.csv"
    pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("family", sorted(BY_NAME))
def test_trace_every_family_text_and_json(runner, tmp_path, family):
    X, _ = CASES[BY_NAME[family]]
    data = write(tmp_path, family, X)
    res = run(runner, "trace", data, "-k", 2, "--family", family, "-i", 2, "--rows", 5)
    assert res.exit_code == 0, res.output
    assert "iteration 2: M-step" in res.output and "Q(θ,θ_old)" in res.output
    assert "more points" in res.output  # 60 rows, 5 shown
    exact = ["--alpha", 0] if family in ("bernoulli", "categorical", "poisson") else []
    res = run(runner, "trace", data, "-k", 2, "--family", family, "-i", 2, "--format", "json", *exact)
    got = json.loads(res.stdout)
    assert got["exact_m_step"]
    assert got["family"]["family"] == family
    steps = got["steps"]
    assert [s["step"] for s in steps] == ["E", "M", "E", "M"]
    for s in steps:
        assert {"log_likelihood", "lower_bound", "kl", "expected_complete"} <= set(s)
        assert s["lower_bound"] + s["kl"] == pytest.approx(
            s["log_likelihood"], abs=1e-9 * abs(s["log_likelihood"])
        )
    assert all(abs(s["kl"]) <= 1e-12 for s in steps if s["step"] == "E")
    assert steps[3]["lower_bound"] >= steps[0]["lower_bound"] - 1e-9 * abs(steps[0]["lower_bound"])
    assert ("u" in steps[0]["latent"]) == (family == "student")


def test_trace_student_text_shows_the_scale_weights(runner, tmp_path):
    data = write(tmp_path, "heavy", CASES["student"][0])
    res = run(runner, "trace", data, "-k", 2, "--family", "student", "-i", 1)
    assert res.exit_code == 0, res.output
    assert "u_n0" in res.output and "ν_k" in res.output


def test_trace_a_mixed_table_with_a_product_spec(runner, tmp_path):
    X, _ = CASES["product"]
    data = write(tmp_path, "mixed", X)
    spec = json.dumps(
        {
            "family": "product",
            "parts": [
                {"family": "gaussian", "covariance_type": "diag", "reg_covar": 0, "columns": [0]},
                {"family": "categorical", "alpha": 0, "columns": [1]},
                {"family": "poisson", "alpha": 0, "columns": [2]},
            ],
        }
    )
    res = run(runner, "trace", data, "-k", 2, "--family", spec, "-i", 2, "--format", "json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert [p["family"] for p in got["family"]["parts"]] == ["gaussian", "categorical", "poisson"]
    assert "part1_probabilities" in got["steps"][1]
    res = run(runner, "trace", data, "-k", 2, "--family", spec, "-i", 1)
    assert "product of gaussian on columns [0]" in res.output and "μ_k (part 0)" in res.output


def test_trace_pictures_digits_and_blends(runner, tmp_path):
    from sklearn.datasets import load_digits

    digits = write(tmp_path, "digits", (load_digits().data[:300] > 7).astype(float))
    images, stairs = tmp_path / "means.png", tmp_path / "stairs.png"
    res = run(
        runner,
        "trace",
        digits,
        "-k",
        4,
        "--family",
        "bernoulli",
        "-i",
        3,
        "--images",
        images,
        "--image-shape",
        "8x8",
        "--plot",
        stairs,
        "--rows",
        3,
    )
    assert res.exit_code == 0, res.output
    assert "not exact" in res.output  # the default pseudo-count
    check_png(images, (400, 300))
    check_png(stairs, (600, 550))
    blend = tmp_path / "blend.png"
    faithful = write(tmp_path, "faithful", emix.datasets.load_faithful()[::5])
    res = run(runner, "trace", faithful, "-k", 2, "--blend", blend, "--format", "json")
    assert res.exit_code == 0 and f"picture written to {blend}" in stderr(res)
    check_png(blend, (600, 250))


@pytest.mark.parametrize(
    "args, message",
    [
        (["trace", "--family", "bernoulli"], "the lecture example is Gaussian; give DATA"),
        (
            ["trace", "{d}", "-k", "2", "--family", "poisson"],
            "the poisson family needs non-negative integers",
        ),
        (["trace", "{d}", "-k", "2", "--family", "zipf"], "unknown family 'zipf'"),
        (["trace", "{d}", "-k", "2", "--family", "poisson", "--covariance", "diag"], "no covariance_type"),
        (["trace", "{d}", "-k", "2", "--images", "x.png"], "--images and --image-shape go together"),
        (
            ["trace", "{d}", "-k", "2", "--images", "x.png", "--image-shape", "8by8"],
            "--image-shape must be HxW",
        ),
        (["trace", "{d}", "-k", "2", "--family", "{{bad json"], "not valid JSON"),
    ],
)
def test_trace_errors_are_one_line(runner, tmp_path, args, message):
    data = write(tmp_path, "real", np.random.default_rng(0).normal(size=(20, 2)))
    res = runner.invoke(app, [a.format(d=data) for a in args])
    assert res.exit_code == 1, res.output
    err = stderr(res)
    assert message in err and err.startswith("emix: error: ") and err.count("\n") == 1


def test_sample_with_a_picture_draws_ancestrally(runner, tmp_path):
    X = emix.datasets.load_faithful()
    data = write(tmp_path, "faithful", X)
    model = tmp_path / "m.emix"
    assert run(runner, "fit", data, "-k", 2, "-o", model).exit_code == 0
    out, picture = tmp_path / "draws.csv", tmp_path / "ancestral.png"
    res = run(runner, "sample", model, "-n", 300, "-o", out, "--picture", picture, "--seed", 3)
    assert res.exit_code == 0, res.output
    draws = pd.read_csv(out)
    assert list(draws.columns) == ["c0", "c1", "component"] and len(draws) == 300
    assert not (np.diff(draws["component"]) >= 0).all()  # in the order drawn
    fitted = emix.load(model)
    s = emix.teach.ancestral_sample(fitted, 300, random_state=3)
    np.testing.assert_allclose(draws[["c0", "c1"]].to_numpy(), s.X, rtol=1e-12)
    check_png(picture, (900, 400))
    res = runner.invoke(app, ["sample", str(model), "--image-shape", "8x8"])
    assert res.exit_code == 1 and "--image-shape goes with --picture" in stderr(res)


def test_sample_picture_of_a_bernoulli_model_as_images(runner, tmp_path):
    from sklearn.datasets import load_digits

    data = write(tmp_path, "digits", (load_digits().data[:300] > 7).astype(float))
    model = tmp_path / "d.emix"
    assert run(runner, "fit", data, "-k", 4, "--family", "bernoulli", "-o", model).exit_code == 0
    picture = tmp_path / "digits.png"
    res = run(
        runner,
        "sample",
        model,
        "-n",
        24,
        "-o",
        tmp_path / "d.csv",
        "--picture",
        picture,
        "--image-shape",
        "8x8",
    )
    assert res.exit_code == 0, res.output
    check_png(picture, (900, 400))
