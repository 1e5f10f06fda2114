"""docs/teaching.md: its Python runs as written, and the pictures it shows are real files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import check_png
from PIL import Image

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGE = DOCS / "teaching.md"


def test_the_python_of_the_page_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) == 4
    monkeypatch.chdir(tmp_path)  # the page writes pictures
    namespace: dict = {}
    exec(compile("".join(blocks), str(PAGE), "exec"), namespace)
    tr, pt = namespace["tr"], namespace["pt"]
    assert [s.label for s in tr.states] == ["start", "E1", "M1", "E2", "M2", "E3", "M3"]
    for s in (*tr.states, *pt.states):
        assert s.lower_bound + s.kl == pytest.approx(s.log_likelihood, abs=1e-10 * abs(s.log_likelihood))
    assert namespace["draws"].z.shape == (5,)
    for name in ("staircase.png", "bound-slice.png", "ancestral.png"):
        check_png(tmp_path / name)


def test_the_pictures_of_the_page_are_real():
    shown = re.findall(r"\]\((images/[^)]+)\)", PAGE.read_text())
    assert len(shown) >= 6
    for rel in shown:
        path = DOCS / rel
        if path.suffix == ".gif":
            with Image.open(path) as im:
                assert im.n_frames >= 5
                im.seek(im.n_frames - 1)
                px = np.asarray(im.convert("RGB"), dtype=np.int16)
            assert (px < 245).any(axis=2).mean() > 0.05
        else:
            check_png(path, (400, 150))
