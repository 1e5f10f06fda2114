"""The new-family example of docs/design.md, run as written: a geometric mixture on the estimator core."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import emix
from emix.families.registry import FAMILIES

DESIGN = Path(__file__).resolve().parent.parent / "docs" / "design.md"


@pytest.fixture(scope="module")
def example():
    text = DESIGN.read_text()
    section = text[text.index("## Writing a new family") :]
    section = section[: section.index("\n## ", 4)] if "\n## " in section[4:] else section
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "the example is two python blocks"
    namespace: dict = {}
    saved = dict(FAMILIES)
    exec(compile(blocks[0] + blocks[1], str(DESIGN), "exec"), namespace)
    yield namespace
    FAMILIES.clear()
    FAMILIES.update(saved)


def test_the_example_fits_the_truth(example):
    gm = example["gm"]
    order = np.argsort(-gm.success_[:, 0])
    np.testing.assert_allclose(gm.success_[order], [[0.6, 0.6], [0.1, 0.1]], atol=0.06)
    np.testing.assert_allclose(np.sort(gm.weights_), [0.4, 0.6], atol=0.05)
    assert gm.converged_


def test_likelihood_is_scipys(example):
    gm, X = example["gm"], example["X"]
    dens = sum(
        w * stats.geom(t).pmf(X + 1).prod(axis=1) for w, t in zip(gm.weights_, gm.success_)
    )  # scipy's geometric counts trials, from 1
    np.testing.assert_allclose(gm.score_samples(X), np.log(dens), rtol=1e-12)
    assert gm.log_likelihood_ == pytest.approx(np.log(dens).sum(), rel=1e-12)
    np.testing.assert_allclose(gm.predict_proba(X).sum(axis=1), 1.0, rtol=1e-14)


def test_em_never_lowers_the_likelihood(example):
    h = example["gm"].history_
    assert (np.diff(h) >= -1e-9 * np.abs(h[:-1])).all()


def test_model_file_round_trip(example, tmp_path):
    gm, X = example["gm"], example["X"]
    gm.save(tmp_path / "geo.emix")
    back = emix.load(tmp_path / "geo.emix")
    np.testing.assert_array_equal(back.success_, gm.success_)
    np.testing.assert_array_equal(back.predict(X), gm.predict(X))


@pytest.mark.filterwarnings("ignore::emix.ConvergenceWarning")
def test_weights_chunks_and_user_starts(example):
    X, Geo = example["X"], example["GeometricFamily"]
    start = {"success": [[0.5, 0.5], [0.2, 0.2]]}
    kw = dict(family=Geo(), random_state=0, tol=0, max_iter=20, accelerate=False, params_init=start)
    w = np.arange(len(X)) % 3
    a = emix.Mixture(2, **kw).fit(X, sample_weight=w)
    b = emix.Mixture(2, **kw).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(a.success_, b.success_, rtol=1e-10)
    c = emix.Mixture(2, chunk_size=7, **kw).fit(X)
    d = emix.Mixture(2, **kw).fit(X)
    np.testing.assert_allclose(c.success_, d.success_, rtol=1e-10)
    assert d.init_used_ == "user"
    kmeans = dict(kw, params_init=None)
    e, f = emix.Mixture(2, chunk_size=7, **kmeans).fit(X), emix.Mixture(2, **kmeans).fit(X)
    np.testing.assert_allclose(e.success_, f.success_, rtol=1e-10)


def test_the_support_is_checked(example):
    gm = example["gm"]
    with pytest.raises(emix.InvalidInputError, match="non-negative integers"):
        gm.predict([[0.5, 1.0]])
    with pytest.raises(emix.InvalidParameterError, match="success"):
        emix.Mixture(2, family=example["GeometricFamily"](), params_init={"success": [[0.5]]}).fit(
            example["X"]
        )
