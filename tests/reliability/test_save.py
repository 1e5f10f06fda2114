"""Destinations of ``save`` and of every file the command writes (``emix._files.atomic_write_bytes``).

A destination is a regular file or a new name; a symbolic link is written
through (the link stays a link); anything else is refused before it is
touched, with an OutputFileError (an OSError) naming the path the caller
gave, never the temporary file.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings

import numpy as np
import pandas as pd
import pytest

import emix
from emix.exceptions import OutputFileError
from emix.sources.tables import write_table

from ._helpers import blobs, check_error

X, _ = blobs()


@pytest.fixture(scope="module")
def model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return emix.GaussianMixture(2, random_state=0).fit(X)


def refused(call, path, *patterns):
    exc = check_error(call, OutputFileError, [rf"^{path}: ", *patterns])
    assert isinstance(exc, OSError) and exc.filename == str(path)
    assert ".tmp" not in str(exc), "the error names the temporary file"
    return exc


def leftovers(folder):
    return [p for p in os.listdir(folder) if p.endswith(".tmp")]


# -- refused before anything is written ------------------------------------------------------------------
def test_dev_null_is_refused_and_left_a_device(model):
    refused(lambda: model.save("/dev/null"), "/dev/null", r"character device", r"regular file")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_fifo_is_refused_and_left_a_fifo(model, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused(lambda: model.save(fifo), fifo, r"FIFO", r"regular file")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and not leftovers(tmp_path)


def test_directory_is_refused_with_a_file_name_to_give(model, tmp_path):
    refused(lambda: model.save(tmp_path), tmp_path, r"is a directory", r"give a file name inside it")


def test_missing_folder(model, tmp_path):
    path = tmp_path / "nope" / "m.emix"
    refused(lambda: model.save(path), path, r"the folder .*nope does not exist", r"create it")


def test_folder_replaced_by_a_file(model, tmp_path):
    (tmp_path / "was_a_folder").write_text("x")
    path = tmp_path / "was_a_folder" / "m.emix"
    refused(lambda: model.save(path), path, r"not a folder", r"choose another destination")


def test_link_to_a_device_is_refused(model, tmp_path):
    link = tmp_path / "null.emix"
    link.symlink_to("/dev/null")
    refused(lambda: model.save(link), link, r"/dev/null \(the target of the link", r"character device")


def test_link_loop_is_refused(model, tmp_path):
    link = tmp_path / "loop.emix"
    link.symlink_to(link)
    refused(lambda: model.save(link), link, r"loops", r"fix the link")


# -- written through a symbolic link, atomically -------------------------------------------------------------
def test_link_is_written_through_and_stays_a_link(model, tmp_path):
    target = tmp_path / "models" / "real.emix"
    target.parent.mkdir()
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / "current.emix"
    link.symlink_to(target)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert np.allclose(emix.load(link).means_, model.means_)
    assert not leftovers(tmp_path) and not leftovers(target.parent)


def test_dangling_link_creates_its_target(model, tmp_path):
    link = tmp_path / "next.emix"
    link.symlink_to(tmp_path / "made.emix")
    model.save(link)
    assert link.is_symlink() and (tmp_path / "made.emix").is_file()


# -- failing writes leave the old file --------------------------------------------------------------------
@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(model, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        refused(lambda: model.save(folder / "m.emix"), folder / "m.emix", r"read-only or not yours")
    finally:
        os.chmod(folder, 0o755)


def test_permission_denied_names_the_destination_not_the_temporary_file(model, tmp_path, monkeypatch):
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".m.emix.abc.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    exc = refused(
        lambda: model.save(tmp_path / "m.emix"), tmp_path / "m.emix", r"Permission denied", r"read-only"
    )
    assert exc.errno == errno.EACCES


def test_full_disk_keeps_the_old_file_and_leaves_no_temporary_file(model, tmp_path, monkeypatch):
    import emix._files as files

    path = tmp_path / "m.emix"
    model.save(path)
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    refused(lambda: model.save(path), path, r"No space left", r"free some space", r"old file.*unchanged")
    assert path.read_bytes() == before and not leftovers(tmp_path)


# -- the command's other outputs go the same way --------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["csv", "parquet", "npy"])
def test_tables_refuse_a_device_and_write_through_links(tmp_path, suffix):
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    refused(lambda: write_table(frame, "/dev/null"), "/dev/null", r"device")
    target = tmp_path / f"t.{suffix}"
    link = tmp_path / f"link.{suffix}"
    link.symlink_to(target)
    write_table(frame, link)
    assert link.is_symlink() and target.stat().st_size > 0


def test_a_new_file_gets_the_umask_mode(model, tmp_path):
    old = os.umask(0o027)
    os.umask(old)
    model.save(tmp_path / "m.emix")
    assert stat.S_IMODE(os.stat(tmp_path / "m.emix").st_mode) == 0o666 & ~old
