import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=50, derandomize=True)
settings.register_profile("ci", deadline=None, max_examples=50, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config, items):
    if os.environ.get("EMIX_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: set EMIX_SLOW=1 or pass -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


# -- the fixtures scikit-learn's own tests use (tests/test_sklearn_suite.py runs them on emix) --
def _global_random_seeds():
    """``SKLEARN_TESTS_GLOBAL_RANDOM_SEED``, as scikit-learn reads it: unset (42), an int,
    ``"a-b"`` (that range) or ``"all"`` (0..99)."""
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    if "-" in value:
        low, high = (int(v) for v in value.split("-"))
        return list(range(low, high + 1))
    return [int(value)]


@pytest.fixture(params=_global_random_seeds())
def global_random_seed(request):
    """A seed for tests that must pass for any seed (scikit-learn's fixture)."""
    return request.param


@pytest.fixture(params=["float64", "float32"])
def global_dtype(request):
    """Both float dtypes, always (scikit-learn runs float32 only with SKLEARN_RUN_FLOAT32_TESTS=1)."""
    import numpy as np

    return np.dtype(request.param).type
