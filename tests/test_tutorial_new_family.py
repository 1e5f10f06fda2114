"""docs/tutorial-new-family.md, run as written: a mixture of multinomials on the family protocol."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import emix
from emix.families.registry import FAMILIES

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial-new-family.md"


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), flags=re.S)
    assert len(blocks) == 10
    namespace: dict = {}
    saved = dict(FAMILIES)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("tutorial"))  # the page writes a picture and a model file
        exec(compile("".join(blocks), str(TUTORIAL), "exec"), namespace)
        namespace["cwd"] = Path.cwd()
    yield namespace
    FAMILIES.clear()
    FAMILIES.update(saved)


def test_the_topics_are_recovered(tutorial):
    model, topics = tutorial["model"], tutorial["topics"]
    found = model.word_probs_
    order = [int(np.argmin(np.abs(found - t).sum(axis=1))) for t in topics]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(found[order], topics, atol=0.04)
    np.testing.assert_allclose(model.weights_[order], [0.5, 0.3, 0.2], atol=0.07)
    assert model.converged_


def test_the_likelihood_is_scipys_multinomial(tutorial):
    model, X = tutorial["model"], tutorial["X"]
    lengths = X.sum(axis=1).astype(int)
    dens = np.zeros(len(X))
    for w, beta in zip(model.weights_, model.word_probs_):
        dens += w * np.array([stats.multinomial(n, beta).pmf(x) for n, x in zip(lengths, X)])
    np.testing.assert_allclose(model.score_samples(X), np.log(dens), rtol=1e-10)
    assert model.bic(X) > 0 and model._n_parameters() == 3 * 8 + 2


def test_the_trace_keeps_the_em_identities(tutorial):
    tr = tutorial["tr"]
    assert tr.exact_m_step and tr.family_name == "multinomial"
    states = tr.states
    for s in states:
        assert s.lower_bound + s.kl == pytest.approx(s.log_likelihood, rel=1e-12)
        if s.step != "M":
            assert abs(s.kl) <= 1e-12
    for a, b in zip(states, states[1:]):
        assert b.lower_bound >= a.lower_bound - 1e-9 * abs(a.lower_bound)
    b = tutorial["b"]
    assert b.kl > 0 and b.lower_bound + b.kl == pytest.approx(b.log_likelihood, rel=1e-12)


def test_sampling_pictures_and_files(tutorial):
    draws = tutorial["draws"]
    assert draws.X.shape == (6, 9) and (draws.X.sum(axis=1) == 50).all()
    assert (tutorial["cwd"] / "multinomial-staircase.png").stat().st_size > 5000
    back = emix.load(tutorial["cwd"] / "topics.emix")
    np.testing.assert_array_equal(back.word_probs_, tutorial["model"].word_probs_)


def test_the_checks_of_the_family(tutorial):
    Multinomial = tutorial["MultinomialFamily"]
    with pytest.raises(emix.InvalidInputError, match="non-negative integers"):
        tutorial["model"].predict([[0.5] * 9])
    with pytest.raises(emix.InvalidParameterError, match="sum to one"):
        emix.Mixture(2, family=Multinomial(), params_init={"word_probs": np.full((2, 9), 0.2)}).fit(
            tutorial["X"]
        )
    # a word a topic never emits rules the topic out, and 0 ln 0 = 0
    params = tutorial["MultinomialParams"](word_probs=np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]]))
    lp = Multinomial().log_prob(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]]), params)
    assert np.isfinite(lp[0]).all() and lp[1, 0] == -np.inf and np.isfinite(lp[1, 1])
