"""Files that cannot change under a fit: a fingerprint taken when a file source opens its file.

A file source re-reads its file on every pass of a fit, so the file must not
change in between: rows appended, removed or rewritten would make the passes
sum over different data (and the sizes learnt in the first scan wrong). A
``Fingerprint`` holds what is cheap to read and changes with the data:

* the size in bytes and the modification time in nanoseconds;
* for Parquet, a hash of the footer (the file metadata: row groups, row
  counts, statistics), which any rewrite changes;
* for other files, a hash of the first and the last :data:`EDGE_BYTES` bytes
  (the header, the first rows and the last rows).

:class:`WatchedFile` gives a source ``check_unchanged()``, which compares the
file with the fingerprint and raises :class:`~emix.exceptions.DataChangedError`
naming the file and what changed. File sources call it at the start and at
the end of every pass, and when reading fails (a file truncated during a
pass then gives this error rather than a parser's).

A file touched without being changed (its modification time moved) counts as
changed: nothing short of reading it all could tell, and a fit must not read
a file twice per pass to find out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

from ..exceptions import DataChangedError

#: Bytes hashed at each end of a CSV or ``.npy`` file.
EDGE_BYTES = 4096

_PARQUET_MAGIC = b"PAR1"


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """What a file looked like when a source opened it.

    Attributes
    ----------
    size : int
        Bytes.
    mtime_ns : int
        Modification time, nanoseconds since the epoch.
    digest : str
        Hash of the Parquet footer, or of the first and last
        :data:`EDGE_BYTES` bytes.
    part : str
        What ``digest`` covers, in words (for messages).
    """

    size: int
    mtime_ns: int
    digest: str
    part: str


def take_fingerprint(path: Path, footer: bool = False) -> Fingerprint:
    """The ``Fingerprint`` of ``path`` now.

    Parameters
    ----------
    path : Path
    footer : bool, default=False
        Hash the Parquet footer (the metadata at the end of the file) rather
        than the first and last bytes.

    Raises
    ------
    OSError
        The file cannot be read (e.g. it was removed).
    """
    st = os.stat(path)
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        if footer:
            part = "footer (the Parquet metadata)"
            fh.seek(max(st.st_size - 8, 0))
            tail = fh.read(8)
            h.update(tail)
            if len(tail) == 8 and tail[4:] == _PARQUET_MAGIC:
                length = int.from_bytes(tail[:4], "little")
                fh.seek(max(st.st_size - 8 - length, 0))
                h.update(fh.read(length))
        else:
            part = f"first or last {EDGE_BYTES} bytes"
            h.update(fh.read(EDGE_BYTES))
            fh.seek(max(st.st_size - EDGE_BYTES, 0))
            h.update(fh.read(EDGE_BYTES))
    return Fingerprint(size=st.st_size, mtime_ns=st.st_mtime_ns, digest=h.hexdigest(), part=part)


def differences(old: Fingerprint, new: Fingerprint) -> list[str]:
    """What changed from ``old`` to ``new``, in words (empty when nothing did)."""
    found = []
    if new.size != old.size:
        verb = "grew" if new.size > old.size else "shrank"
        found.append(f"its size {verb} from {old.size} to {new.size} bytes")
    if new.mtime_ns != old.mtime_ns:
        found.append(f"its modification time moved by {(new.mtime_ns - old.mtime_ns) / 1e9:+.9g} s")
    if new.digest != old.digest:
        found.append(f"its {old.part} changed")
    return found


def changed_error(path: Path, what: list[str]) -> DataChangedError:
    """The :class:`DataChangedError` for ``path``, saying ``what`` changed."""
    return DataChangedError(
        f"{path}: the file changed after the source opened it ({'; '.join(what)}): it was "
        "appended to, truncated or rewritten between two passes of a fit, which re-reads it on "
        "every pass. Let the writer finish (or fit a copy), then make a new source"
    )


class WatchedFile:
    """A mixin for sources over one file: the fingerprint and :meth:`check_unchanged`.

    The source sets ``path`` and calls :meth:`_watch` when it opens the file.
    """

    path: Path
    _fingerprint: Fingerprint
    _footer = False  # Parquet sources hash the footer

    def _watch(self) -> None:
        """Take the fingerprint (when the file is opened)."""
        self._fingerprint = take_fingerprint(self.path, self._footer)

    @property
    def fingerprint(self) -> Fingerprint:
        """The ``Fingerprint`` taken when the file was opened (checkpoints record it)."""
        return self._fingerprint

    def check_unchanged(self) -> None:
        """Raise :class:`~emix.exceptions.DataChangedError` if the file differs from its fingerprint."""
        try:
            now = take_fingerprint(self.path, self._footer)
        except FileNotFoundError:
            raise changed_error(self.path, ["it was removed or renamed"]) from None
        except OSError as exc:
            raise changed_error(self.path, [f"it can no longer be read: {exc.strerror or exc}"]) from None
        what = differences(self._fingerprint, now)
        if what:
            raise changed_error(self.path, what)

    def _raise_if_changed(self, exc: BaseException) -> None:
        """After ``exc`` while reading: a :class:`DataChangedError` instead, if the file changed."""
        try:
            self.check_unchanged()
        except DataChangedError as changed:
            raise changed from exc
