"""The API reference cannot go stale: its examples run, and every public name is in it.

* Every docstring of the modules that define emix's public names is run with
  :mod:`doctest` (one test per docstring with examples), in a fresh temporary
  folder, so an example that writes a file writes it there. Examples import
  what they use, as a reader would (the globals start empty), and must not warn.
* Every public class and function has an **Examples** section, and its
  Parameters section names every argument of its signature (and no other).
* Every public name is documented on a page of ``docs/api/`` (``make docs``
  builds those pages; the docs build itself is not part of ``make test``).

The public names are those ``import emix`` gives (``emix.__all__`` and
``emix.register_estimator``), the ``__all__`` of :mod:`emix.families`,
:mod:`emix.sources`, :mod:`emix.datasets`, :mod:`emix.selection`,
:mod:`emix.exceptions`, :mod:`emix.teach`, :mod:`emix.teach.trace` and
:mod:`emix.teach.plot`, and the few names the
reference documents beyond them (:data:`EXTRA`).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import re
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import emix

DOCS = Path(__file__).resolve().parents[1] / "docs"

#: the modules whose ``__all__`` is public, beside ``emix`` itself
PUBLIC_MODULES = (
    "emix.families",
    "emix.sources",
    "emix.datasets",
    "emix.selection",
    "emix.exceptions",
    "emix.teach",
    "emix.teach.trace",
    "emix.teach.plot",
)
#: documented beyond the ``__all__`` lists: the family interface and the stopping rule
EXTRA = (
    "emix.register_estimator",
    "emix.io.save_model",
    "emix.families.base.Family",
    "emix.families.base.FamilyBase",
    "emix.families.base.Stats",
    "emix.families.base.SUPPORTS",
    "emix.families.gaussian.GaussianFamily",
    "emix.engine.ConvergenceMonitor",
)


def _resolve(dotted: str):
    """The object a dotted name refers to (``emix.teach.plot.plot_trace``).

    As autodoc resolves it: the last part is an attribute of the longest importable module
    before it, so ``emix.teach.bound`` is the function that ``emix.teach`` exports, not the
    module of the same name it comes from.
    """
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _public_names() -> dict[str, object]:
    names = {f"emix.{n}": getattr(emix, n) for n in emix.__all__ if n != "__version__"}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names.update({f"{module_name}.{n}": getattr(module, n) for n in module.__all__})
    names.update({n: _resolve(n) for n in EXTRA})
    return {n: obj for n, obj in names.items() if not isinstance(obj, types.ModuleType)}


PUBLIC = _public_names()


def _documented_callables() -> dict[str, object]:
    """Public classes and functions, once each (the first public name of each object)."""
    seen: dict[int, str] = {}
    for name, obj in PUBLIC.items():
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in seen:
            seen[id(obj)] = name
    return {name: PUBLIC[name] for name in seen.values()}


CALLABLES = _documented_callables()


def _public_methods(cls: type) -> dict[str, object]:
    """The public methods of a public class that the reference shows (its own and inherited,
    not those of ``object``, ``Exception`` or ``Protocol``)."""
    out = {}
    for name, value in inspect.getmembers(cls):
        if name.startswith("_") or not inspect.isfunction(value):
            continue
        if value.__module__.split(".")[0] != "emix" or value.__doc__ is None:
            continue
        out[name] = value
    return out


# -- the examples run --------------------------------------------------------------------------------
def _example_modules() -> list[str]:
    """Every module that defines a public class or function, or a method of one."""
    modules = set()
    for obj in CALLABLES.values():
        modules.add(obj.__module__)
        if inspect.isclass(obj):
            modules.update(m.__module__ for m in _public_methods(obj).values())
    return sorted(modules)


def _doctests() -> dict[str, doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = {}
    for module_name in _example_modules():
        module = importlib.import_module(module_name)
        for test in finder.find(module, module_name, globs={}):
            if test.examples:
                tests[test.name] = test
    return tests


DOCTESTS = _doctests()


def test_the_examples_are_collected():
    assert len(DOCTESTS) >= len(CALLABLES)
    assert "emix.estimators.gaussian.GaussianMixture" in DOCTESTS


#: what an example needs beyond emix's dependencies, by a word of its source (the test extra
#: installs them all; without one, the examples that need it are skipped)
OPTIONAL = {
    "sklearn": "sklearn",
    "pandas": "pandas",
    "parquet": "pyarrow",
    "dask": "dask",
    "emix.teach.plot": "matplotlib",
    "animate_em": "PIL",
}


@pytest.mark.parametrize("name", sorted(DOCTESTS))
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    test = DOCTESTS[name]
    source = _source(test)
    for module in sorted({module for word, module in OPTIONAL.items() if word in source}):
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)
    test.globs = {}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    with warnings.catch_warnings(), np.printoptions(legacy=False):
        warnings.simplefilter("error")
        result = runner.run(test, out=report.append, clear_globs=True)
    if result.failed:
        pytest.fail("".join(report), pytrace=False)


def _source(test: doctest.DocTest) -> str:
    return "".join(example.source for example in test.examples)


# -- every public class and function is documented -----------------------------------------------------
_SECTION = re.compile(r"^(\s*)([A-Z][A-Za-z ]+)\n\1-{3,}\s*$", re.M)


def _sections(doc: str) -> dict[str, str]:
    """numpydoc sections of a docstring by title (the text between a title and the next)."""
    doc = inspect.cleandoc(doc)
    heads = list(_SECTION.finditer(doc))
    return {
        h.group(2).strip(): doc[h.end() : heads[i + 1].start() if i + 1 < len(heads) else len(doc)]
        for i, h in enumerate(heads)
    }


def _documented_parameters(doc: str) -> list[str]:
    """Names listed in the Parameters section (``a, b : type`` lines and ``**kwargs``)."""
    text = _sections(doc).get("Parameters", "")
    names = []
    for line in text.splitlines():
        if not line or line[0].isspace():
            continue
        head = line.split(" : ")[0] if " : " in line else line.strip()
        names.extend(n.strip().lstrip("*") for n in head.split(","))
    return names


def _signature_parameters(obj, method: bool = False) -> list[str]:
    """The arguments of a function, of a class's constructor, or of a method (without ``self``)."""
    names = [p.name for p in inspect.signature(obj).parameters.values()]
    return names[1:] if method else names


def _has_own_init(cls: type) -> bool:
    """Whether an emix class of ``cls``'s bases defines the constructor (not a Protocol's)."""
    if getattr(cls, "_is_protocol", False):
        return False
    return any("__init__" in vars(c) for c in cls.__mro__[:-1] if c.__module__.startswith("emix"))


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_public_class_and_function_has_examples(name):
    doc = inspect.getdoc(CALLABLES[name]) or ""
    sections = _sections(doc)
    assert "Examples" in sections and ">>>" in sections["Examples"], f"{name} has no Examples section"


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_parameters_sections_match_the_signatures(name):
    obj = CALLABLES[name]
    if inspect.isclass(obj) and (issubclass(obj, (BaseException, tuple)) or not _has_own_init(obj)):
        return  # exceptions, named tuples and classes without their own constructor take no documented arguments
    if inspect.isclass(obj) and getattr(obj, "__dataclass_fields__", None):
        return  # dataclasses document their fields as Attributes
    wanted = _signature_parameters(obj)
    documented = _documented_parameters(inspect.getdoc(obj) or "")
    # the named mixtures list their own arguments before the shared ones: the order may differ
    assert len(documented) == len(set(documented)), f"{name}: an argument is listed twice"
    assert set(documented) == set(wanted), (
        f"{name}: the docstring lists {documented}, the signature has {wanted}"
    )


def _methods() -> dict[str, object]:
    """Public methods of the public classes the reference lists with their members: not the
    exceptions, and not the families, whose methods are the family interface (documented once,
    on :class:`emix.families.base.FamilyBase`)."""
    out = {}
    for name, obj in CALLABLES.items():
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        if obj.__module__.startswith("emix.families") and obj.__module__ != "emix.families.base":
            continue
        out.update({f"{name}.{m}": f for m, f in _public_methods(obj).items()})
    return out


METHODS = _methods()


@pytest.mark.parametrize("name", sorted(METHODS))
def test_methods_document_their_parameters(name):
    method = METHODS[name]
    wanted = _signature_parameters(method, method=True)
    documented = _documented_parameters(inspect.getdoc(method) or "")
    assert documented == wanted, f"{name}: the docstring lists {documented}, the signature has {wanted}"


# -- every public name is in the reference -------------------------------------------------------------
def _documented_objects() -> set[int]:
    """Ids of the objects the pages of docs/api document (directives, resolved against
    ``currentmodule``)."""
    ids = set()
    for page in sorted((DOCS / "api").glob("*.rst")):
        current = None
        for match in re.finditer(r"^\.\. ([a-z:]+)::[ \t]*(\S+)", page.read_text(), re.M):
            kind, target = match.groups()
            if kind == "currentmodule":
                current = target
                continue
            if kind in ("automodule", "autosummary", "toctree") or not kind.startswith(("auto", "py:")):
                continue
            for candidate in ([f"{current}.{target}"] if current else []) + [target]:
                try:
                    ids.add(id(_resolve(candidate)))
                    break
                except (ImportError, AttributeError):
                    continue
            else:
                raise AssertionError(f"{page.name}: {kind}:: {target} names nothing")
    return ids


def test_every_public_name_is_in_the_api_reference():
    documented = _documented_objects()
    missing = [name for name, obj in PUBLIC.items() if id(obj) not in documented]
    assert not missing, f"public names missing from docs/api/*.rst: {missing}"
