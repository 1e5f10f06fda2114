"""Small data sets bundled with emix.

Each loader returns the numeric columns as a float64 array of shape
``(n_samples, n_features)`` (one column for 1-D data); those with a class
column also return it as an array of strings when asked
(``return_labels=True``). The rows are exactly those that R's mclust was
given for the reference tables in ``tests/reference/mclust/`` (the tests
check that the files are equal), in R's row order.

Sources
-------
============================  ==========  ==============================================
loader                        shape       source (as distributed)
============================  ==========  ==============================================
:func:`load_faithful`         (272, 2)    R ``datasets::faithful``; Härdle (1991)
:func:`load_iris`             (150, 4)    R ``datasets::iris``; Anderson (1935), Fisher (1936)
:func:`load_diabetes`         (145, 3)    R mclust ``diabetes``; Reaven and Miller (1979)
:func:`load_galaxies`         (82, 1)     R MASS ``galaxies`` / 1000; Roeder (1990)
:func:`load_banknote`         (200, 6)    R mclust ``banknote``; Flury and Riedwyl (1988)
:func:`load_wreath`           (1000, 2)   R mclust ``wreath``; Fraley, Raftery and Wehrens (2005)
:func:`load_lecture_example`  (6, 2)      written for emix's teaching material
============================  ==========  ==============================================

R's ``datasets`` package is part of R (GPL-2 | GPL-3), mclust is GPL (>= 2)
and MASS is GPL-2 | GPL-3; the measurements themselves are published data,
to be cited by the references in each loader's docstring.
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np

__all__ = [
    "load_faithful",
    "load_iris",
    "load_diabetes",
    "load_galaxies",
    "load_banknote",
    "load_wreath",
    "load_lecture_example",
    "FAITHFUL_COLUMNS",
    "IRIS_COLUMNS",
    "DIABETES_COLUMNS",
    "GALAXIES_COLUMNS",
    "BANKNOTE_COLUMNS",
    "WREATH_COLUMNS",
]

#: Column names of :func:`load_faithful`.
FAITHFUL_COLUMNS = ("eruptions", "waiting")
#: Column names of :func:`load_iris` (R's names).
IRIS_COLUMNS = ("Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width")
#: Column names of :func:`load_diabetes`.
DIABETES_COLUMNS = ("glucose", "insulin", "sspg")
#: Column name of :func:`load_galaxies`.
GALAXIES_COLUMNS = ("velocity",)
#: Column names of :func:`load_banknote`.
BANKNOTE_COLUMNS = ("Length", "Left", "Right", "Bottom", "Top", "Diagonal")
#: Column names of :func:`load_wreath`.
WREATH_COLUMNS = ("x1", "x2")


def _load_csv(filename: str, columns: tuple[str, ...], label: str | None, return_labels: bool):
    """Read a bundled CSV: the numeric ``columns`` as float64, then the ``label`` column."""
    with resources.files(__package__).joinpath(filename).open("r", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    expected = list(columns) + ([label] if label else [])
    if header != expected:  # a packaging error, not a user error
        raise RuntimeError(f"{filename}: columns {header}, expected {expected}")
    d = len(columns)
    X = np.array([[float(v) for v in row[:d]] for row in rows], dtype=np.float64)
    if not return_labels:
        return X
    y = np.array([row[d] for row in rows], dtype=str)
    return X, y


def load_faithful() -> np.ndarray:
    """Old Faithful geyser data (R's ``datasets::faithful``).

    Returns
    -------
    X : ndarray of shape (272, 2)
        Columns: eruption duration (minutes), waiting time to the next
        eruption (minutes).

    Notes
    -----
    mclust 6.1.3 selects the EEE (``tied``) model with 3 components for these
    data: log-likelihood -1126.315928 at convergence, BIC -2314.316 in
    mclust's sign (``2 log L - 11 log 272``).

    Source: R's ``datasets`` package (part of R, GPL-2 | GPL-3), from
    W. Härdle. Cite Härdle, W. (1991), *Smoothing Techniques with
    Implementation in S*, Springer; see also Azzalini, A. and Bowman, A. W.
    (1990), A look at some data on the Old Faithful geyser, *Applied
    Statistics* 39:357-365.

    Examples
    --------
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> X.shape, X[0]
    ((272, 2), array([ 3.6, 79. ]))
    >>> gm = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(X)
    >>> round(gm.log_likelihood_, 6)                # mclust's EEE, K=3: -1126.315928
    -1126.315932
    """
    with resources.files(__package__).joinpath("faithful.csv").open("r") as fh:
        return np.loadtxt(fh, delimiter=",", skiprows=1, dtype=np.float64)


def load_iris(return_labels: bool = False):
    """Edgar Anderson's iris data (R's ``datasets::iris``).

    Parameters
    ----------
    return_labels : bool, default=False
        Also return the species.

    Returns
    -------
    X : ndarray of shape (150, 4)
        Sepal length, sepal width, petal length, petal width, in centimetres
        (:data:`IRIS_COLUMNS`).
    y : ndarray of str of shape (150,)
        Only if ``return_labels``: ``'setosa'``, ``'versicolor'`` or ``'virginica'``, 50 of each.

    Notes
    -----
    R's copy (some other copies, e.g. the UCI one, differ in a few values).
    mclust 6.0.0 chooses VEV with 2 components by BIC
    (``tests/reference/mclust/``).

    Source: R's ``datasets`` package (part of R, GPL-2 | GPL-3); the data are
    in the public domain. Cite Anderson, E. (1935), The irises of the Gaspé
    Peninsula, *Bulletin of the American Iris Society* 59:2-5, and Fisher,
    R. A. (1936), The use of multiple measurements in taxonomic problems,
    *Annals of Eugenics* 7:179-188.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.datasets import load_iris
    >>> X, y = load_iris(return_labels=True)
    >>> X.shape, X[0]
    ((150, 4), array([5.1, 3.5, 1.4, 0.2]))
    >>> np.unique(y).tolist()
    ['setosa', 'versicolor', 'virginica']
    """
    return _load_csv("iris.csv", IRIS_COLUMNS, "Species", return_labels)


def load_diabetes(return_labels: bool = False):
    """Reaven and Miller's diabetes data, as bundled with R's mclust (``diabetes``).

    Not scikit-learn's ``load_diabetes`` (a different data set).

    Parameters
    ----------
    return_labels : bool, default=False
        Also return the clinical class.

    Returns
    -------
    X : ndarray of shape (145, 3)
        Columns (:data:`DIABETES_COLUMNS`): ``glucose``, area under the
        plasma glucose curve, and ``insulin``, area under the plasma insulin
        curve, after a three-hour oral glucose tolerance test; ``sspg``,
        steady-state plasma glucose.
    y : ndarray of str of shape (145,)
        Only if ``return_labels``: ``'Normal'`` (76), ``'Chemical'`` (36) or ``'Overt'`` (33).

    Notes
    -----
    mclust's documentation calls this copy flawed: one ``insulin`` value
    (row 104: 45) differs from the 5-variable version in the R package
    rrcov (455). It is kept as mclust has it, since it is the data mclust's
    users fit. mclust 6.0.0 chooses VVV with 3 components by BIC.

    Source: R package mclust (GPL >= 2). Cite Reaven, G. M. and Miller,
    R. G. (1979), An attempt to define the nature of chemical diabetes using
    a multidimensional analysis, *Diabetologia* 16:17-24.

    Examples
    --------
    >>> from emix.datasets import load_diabetes
    >>> X, y = load_diabetes(return_labels=True)
    >>> X.shape, X[0], str(y[0])
    ((145, 3), array([ 80., 356., 124.]), 'Normal')
    """
    return _load_csv("diabetes.csv", DIABETES_COLUMNS, "class", return_labels)


def load_galaxies() -> np.ndarray:
    """Velocities of 82 galaxies in the Corona Borealis region (R's ``MASS::galaxies``).

    Returns
    -------
    X : ndarray of shape (82, 1)
        Recession velocity in **1000 km/s**: MASS's values (km/s) divided by
        1000, as mclust's and MASS's examples use them.

    Notes
    -----
    MASS notes that one velocity is a typo (row 78, 26.690, should be
    26.960) and that an 83rd galaxy of the original survey is omitted; both
    are kept as MASS has them. mclust 6.0.0 fits only its two 1-D models
    (``E``, equal variances, and ``V``) and chooses ``V`` with 4 components
    by BIC; emix's models with an ``E`` volume reduce to ``E`` and those with
    a ``V`` volume to ``V`` in 1-D.

    Source: R package MASS (GPL-2 | GPL-3). Cite Roeder, K. (1990), Density
    estimation with confidence sets exemplified by superclusters and voids
    in galaxies, *Journal of the American Statistical Association*
    85:617-624, and Postman, M., Huchra, J. P. and Geller, M. J. (1986),
    Probes of large-scale structures in the Corona Borealis region,
    *Astronomical Journal* 92:1238-1247.

    Examples
    --------
    >>> from emix.datasets import load_galaxies
    >>> X = load_galaxies()
    >>> X.shape, X[:3, 0]
    ((82, 1), array([9.172, 9.35 , 9.483]))
    """
    return _load_csv("galaxies.csv", GALAXIES_COLUMNS, None, False)


def load_banknote(return_labels: bool = False):
    """Swiss banknotes (R's mclust ``banknote``).

    Parameters
    ----------
    return_labels : bool, default=False
        Also return whether each note is genuine.

    Returns
    -------
    X : ndarray of shape (200, 6)
        Six measurements of old Swiss 1000-franc notes, in millimetres
        (:data:`BANKNOTE_COLUMNS`): length, width of the left and right
        edges, bottom and top margin widths, length of the diagonal.
    y : ndarray of str of shape (200,)
        Only if ``return_labels``: ``'genuine'`` (100) or ``'counterfeit'`` (100).

    Notes
    -----
    mclust 6.0.0 chooses VVE with 3 components by BIC.

    Source: R package mclust (GPL >= 2). Cite Flury, B. and Riedwyl, H.
    (1988), *Multivariate Statistics: A Practical Approach*, Chapman & Hall,
    Tables 1.1 and 1.2, pp. 5-8.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.datasets import load_banknote
    >>> X, y = load_banknote(return_labels=True)
    >>> X.shape, X[0]
    ((200, 6), array([214.8, 131. , 131.1,   9. ,   9.7, 141. ]))
    >>> np.unique(y, return_counts=True)[1]
    array([100, 100])
    """
    return _load_csv("banknote.csv", BANKNOTE_COLUMNS, "Status", return_labels)


def load_wreath() -> np.ndarray:
    """1000 points simulated from a 14-component Gaussian mixture (R's mclust ``wreath``).

    Returns
    -------
    X : ndarray of shape (1000, 2)
        Unitless coordinates (:data:`WREATH_COLUMNS`). The 14 components have
        covariances of equal volume and shape and differing orientation (the
        EEV model).

    Notes
    -----
    With mclust's usual grid ``G = 1:9`` mclust 6.0.0 chooses VVV with 8
    components by BIC; the 14 components need ``G`` up to at least 14.

    Source: R package mclust (GPL >= 2). Cite Fraley, C., Raftery, A. E.
    and Wehrens, R. (2005), Incremental model-based clustering for large
    datasets with small clusters, *Journal of Computational and Graphical
    Statistics* 14.

    Examples
    --------
    >>> from emix.datasets import load_wreath
    >>> load_wreath().shape
    (1000, 2)
    """
    return _load_csv("wreath.csv", WREATH_COLUMNS, None, False)


def load_lecture_example(return_init: bool = False):
    """The six-point, two-cluster example used to teach EM by hand.

    Parameters
    ----------
    return_init : bool, default=False
        Also return the lecture's starting point as ``GaussianMixture``
        keyword arguments: weights 0.6/0.4, means [4.5, 2.5] and [2.5, 5.0],
        identity covariances.

    Returns
    -------
    X : ndarray of shape (6, 2)
        Three points near (2, 7.5) and three near (8.5, 2).
    init : dict
        Only if ``return_init``: ``weights_init`` (2,), ``means_init`` (2, 2),
        ``precisions_init`` (2, 2, 2).

    Examples
    --------
    >>> import emix
    >>> X, init = emix.datasets.load_lecture_example(return_init=True)
    >>> X
    array([[1. , 8. ],
           [2.5, 7.5],
           [2. , 7. ],
           [8.5, 2.5],
           [9. , 2. ],
           [8. , 1. ]])
    >>> gm = emix.GaussianMixture(2, reg_covar=0.0, **init).fit(X)
    >>> gm.means_.round(3)
    array([[8.5  , 1.833],
           [1.833, 7.5  ]])
    >>> gm.predict(X)
    array([1, 1, 1, 0, 0, 0])
    """
    X = np.array([[1.0, 8.0], [2.5, 7.5], [2.0, 7.0], [8.5, 2.5], [9.0, 2.0], [8.0, 1.0]])
    if not return_init:
        return X
    init = {
        "weights_init": np.array([0.6, 0.4]),
        "means_init": np.array([[4.5, 2.5], [2.5, 5.0]]),
        "precisions_init": np.array([np.eye(2), np.eye(2)]),
    }
    return X, init
