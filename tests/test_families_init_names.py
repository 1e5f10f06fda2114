"""Every family's ``init_names()`` is the rule the estimators applied to ``array_names()``."""

import pytest

from emix.families import (
    BernoulliFamily,
    CategoricalFamily,
    ExponentialFamily,
    GaussianComponents,
    PoissonFamily,
    ProductFamily,
    StudentFamily,
    make_family,
)
from emix.families.gaussian import COVARIANCE_MODELS, GaussianFamily

#: arrays a user need not give (emix.estimators.named.Mixture._required_init_names)
DERIVED = {"precisions_cholesky", "dof", "n_levels"}


def required_by_rule(names):
    """The estimators' rule: drop a name that, or whose suffix after the first ``_``, is derived."""
    return {n for n in names if n.split("_", 1)[-1] not in DERIVED and n not in DERIVED}


def _families():
    gauss = [GaussianFamily(covariance_type=c) for c in COVARIANCE_MODELS]
    student = [StudentFamily(covariance_type=c) for c in ("full", "tied", "diag", "spherical")]
    singles = [
        BernoulliFamily(),
        BernoulliFamily(alpha=0),
        CategoricalFamily(),
        CategoricalFamily(n_levels=[2, 3]),
        PoissonFamily(),
        ExponentialFamily(),
        StudentFamily(dof=4.0),
        GaussianComponents(),
    ]
    product = ProductFamily(
        [
            (make_family("gaussian", covariance_type="diag"), [0, 1]),
            (make_family("categorical"), [2]),
            (make_family("student"), [3, 4]),
            (make_family("poisson"), [5]),
        ]
    )
    nested = ProductFamily([(product, [0, 1, 2, 3, 4, 5]), (make_family("exponential"), [6])])
    return gauss + student + singles + [product, nested]


@pytest.mark.parametrize("family", _families(), ids=lambda f: f.spec()["family"])
def test_init_names_follow_the_rule(family):
    names = family.init_names()
    assert names == required_by_rule(family.array_names())
    assert names <= set(family.array_names())


@pytest.mark.parametrize(
    "family, expected",
    [
        (make_family("gaussian"), {"means", "covariances"}),
        (make_family("student"), {"means", "covariances"}),
        (make_family("bernoulli"), {"probabilities"}),
        (make_family("categorical"), {"probabilities"}),
        (make_family("poisson"), {"rates"}),
        (make_family("exponential"), {"rates"}),
        (
            ProductFamily([(make_family("student"), [0]), (make_family("categorical"), [1])]),
            {"part0_means", "part0_covariances", "part1_probabilities"},
        ),
    ],
    ids=lambda v: v.spec()["family"] if hasattr(v, "spec") else "",
)
def test_init_names_by_family(family, expected):
    assert family.init_names() == expected
