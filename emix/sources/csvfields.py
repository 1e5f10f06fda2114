"""Every row of a CSV file has one field per column: a check that names the offending line.

pandas fills a row with a missing field with NaN, and reads a row with an
extra field as a valid row (ignoring the field, or shifting the row into an
index); both give wrong values without a word. :class:`FieldCheck` reads the
file's lines and raises :class:`~emix.exceptions.InvalidInputError` at the
first record whose number of fields differs from the header's (or, without
a header, from the first row's), naming the file and the line, counted from
1 (the header is line 1).

How the fields are counted:

* blocks of about a MiB without a quote character are counted with NumPy
  (the separators of each line), so the check costs a fraction of parsing;
* lines in a block with a quote are read one record at a time, those with a
  quote by the :mod:`csv` module (quoted separators, quoted line ends: a
  record over several lines is named by its first line);
* lines that are empty or hold only whitespace are skipped, as pandas skips
  them; CR, LF and CRLF line ends are read, and a UTF-8 byte-order mark;
* compressed files (``.gz``, ``.bz2``, ``.xz``) are read through the
  matching module; other compressions (``.zip``, ``.zst``, ``.tar``) are not
  checked.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import itertools
import lzma
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..exceptions import InputTypeError, InvalidInputError

#: Bytes read at a time.
BLOCK_BYTES = 1 << 20

_OPENERS: dict[str, Any] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_UNCHECKED = {".zip", ".zst", ".zstd", ".tar", ".tgz"}
_BOM = b"\xef\xbb\xbf"


def _open_binary(path: Path) -> IO[bytes] | None:
    """The file's bytes, decompressed (``None`` for compressions the check does not read)."""
    suffixes = [s.lower() for s in path.suffixes]
    if _UNCHECKED.intersection(suffixes):
        return None
    return _OPENERS.get(suffixes[-1] if suffixes else "", open)(path, "rb")


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")  # undecodable bytes are left to pandas to refuse


def _cr_line_ends(data: bytes, more: bytes) -> bool | None:
    """Whether the first line end of ``data`` is a lone CR (None: none seen yet, more to read)."""
    cr, lf = data.find(b"\r"), data.find(b"\n")
    if cr >= 0 and (lf < 0 or cr < lf):
        if cr + 1 < len(data):
            return data[cr + 1 : cr + 2] != b"\n"
        return None if more else True
    return False if lf >= 0 or not more else None


def _fields(n: int) -> str:
    return f"{n} field" if n == 1 else f"{n} fields"


class FieldCheck:
    """Reads a CSV file's lines and checks that every record has as many fields as the first.

    Parameters
    ----------
    path : Path
    sep : str
        The separator, ``","`` or ``"\\t"``.
    header : bool
        Whether the first record is the header (it then sets the number of
        fields, and is not counted as a row).

    Use :meth:`check` as rows are read (``check(m)``: the next ``m`` rows are
    checked, and possibly more, up to a block ahead) and :meth:`finish` at
    the end (the rest, then the file is closed); or :func:`check_fields` for
    a whole file.
    """

    def __init__(self, path: Path, sep: str, header: bool) -> None:
        self.path = path
        self.sep = sep
        self.header = header
        self._sep = sep.encode()
        self._raw = _open_binary(path)
        self._pending = b""  # the start of a line read with the last block
        self._started = False
        self._cr_only: bool | None = None  # whether lines end with CR (read as LF); None: not known yet
        self._slow: Iterator[bytes] | None = None  # lines read one record at a time
        self._bio = io.BytesIO()  # the block the slow path reads
        self._last_quote = -1  # where the last quote of that block is
        self._line = 0  # lines read so far
        self.rows = 0  # data rows checked so far
        self._target = 0
        self.expected: int | None = None
        self._reference = ""

    # -- reading ---------------------------------------------------------------------------------

    def _read_block(self) -> bytes:
        """The next whole lines, about :data:`BLOCK_BYTES` (the rest of the file at its end)."""
        data = self._pending
        while True:
            more = self._raw.read(BLOCK_BYTES)
            data += more
            if not self._started and (len(data) >= len(_BOM) or not more):
                self._started = True
                data = data[len(_BOM) :] if data.startswith(_BOM) else data
            if self._cr_only is None:
                self._cr_only = _cr_line_ends(data, more)
            if self._cr_only:
                data = data.replace(b"\r", b"\n")
            if not more:
                self._pending = b""
                return data
            cut = data.rfind(b"\n") + 1
            if cut and self._cr_only is not None:
                self._pending = data[cut:]
                return data[:cut]

    def _slow_lines(self, block: bytes) -> Iterator[bytes]:
        """The lines of ``block``, then of the blocks after it while a record is read."""
        while block:
            self._bio = io.BytesIO(block)
            self._last_quote = block.rfind(b'"')
            yield from self._bio
            block = self._read_block()

    def _step(self) -> bool:
        """Check the next block of lines; False at the end of the file."""
        if self._raw is None:
            return False
        if self._slow is None:
            block = self._read_block()
            if not block:
                self.close()
                return False
            if self.expected is not None and b'"' not in block:
                self._count_block(block)
                return True
            self._slow = self._slow_lines(block)
        while True:  # one record at a time, until no quote is left in the block
            record = self._record()
            if record is None:
                self.close()
                return False
            self._take(*record)
            if self._bio.tell() > self._last_quote:  # the rest of the block is counted with NumPy
                self._pending = self._bio.read() + self._pending
                self._slow = None
                return True

    def _record(self) -> tuple[int, int] | None:
        """``(first line, number of fields)`` of the next non-blank record, or None at the end."""
        for line in self._slow:
            self._line += 1
            start = self._line
            if b'"' not in line:
                if line.strip():
                    return start, line.count(self._sep) + 1
                continue
            # a quote: the csv module reads the record, which may go on over further lines
            reader = csv.reader(
                itertools.chain([_text(line)], map(_text, self._slow)),
                delimiter=self.sep,
                skipinitialspace=True,
            )
            try:
                fields = next(reader)
            except csv.Error as exc:
                raise InvalidInputError(
                    f"{self.path}: cannot be parsed as CSV (line {start}: {exc})"
                ) from None
            self._line += reader.line_num - 1
            if len(fields) > 1 or (fields and fields[0].strip()):
                return start, len(fields)
        return None

    def _count_block(self, block: bytes) -> None:
        """Check every line of a block without quotes: its separators, counted with NumPy."""
        a = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(a == 10)
        if not block.endswith(b"\n"):  # the last line of the file, without a line end
            ends = np.append(ends, len(a))
        per_line = np.diff(np.searchsorted(np.flatnonzero(a == self._sep[0]), ends), prepend=0)
        starts = np.r_[0, ends[:-1] + 1]
        odd = per_line != self.expected - 1  # blank lines, or wrong
        if self.expected == 1:  # a blank line has the one field's count too: look at those that may be
            first = a[np.minimum(starts, len(a) - 1)]
            odd |= (starts >= ends) | np.isin(first, np.frombuffer(b" \t\r\n", dtype=np.uint8))
        blank = 0
        for i in np.flatnonzero(odd).tolist():
            if not block[int(starts[i]) : int(ends[i])].strip():
                blank += 1
            elif int(per_line[i]) + 1 != self.expected:
                self._mismatch(self._line + i + 1, self.rows + i - blank + 1, int(per_line[i]) + 1)
        self._line += len(ends)
        self.rows += len(ends) - blank

    # -- checking --------------------------------------------------------------------------------

    def _take(self, line: int, n: int) -> None:
        """Check the record at ``line`` with ``n`` fields (the first sets the number)."""
        if self.expected is None:
            self.expected = n
            self._reference = f"the header (line {line})" if self.header else f"the first row (line {line})"
            self.rows += 0 if self.header else 1
            return
        if n != self.expected:
            self._mismatch(line, self.rows + 1, n)
        self.rows += 1

    def _mismatch(self, line: int, row: int, n: int) -> None:
        """Raise the error for the record at ``line`` (data row ``row``, from 1) with ``n`` fields."""
        self.close()
        empty = "1,,3" if self.sep == "," else "two tabs in a row"
        raise InvalidInputError(
            f"{self.path}: line {line} has {_fields(n)} where {self._reference} has {self.expected} "
            f"(line {line} is data row {row}); every row needs one value per column, with an empty "
            f"value for a missing one (as in {empty}): fix or remove line {line}"
        )

    def check(self, rows: int) -> None:
        """Check at least the next ``rows`` rows (fewer at the end of the file)."""
        self._target += rows
        while self.rows < self._target and self._step():
            pass

    def finish(self) -> None:
        """Check every row left, then close the file."""
        while self._step():
            pass
        self.close()

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        self._slow = None


#: Separators a file may use instead of the one its suffix says.
OTHER_SEPARATORS = (";", "\t", "|", ",")
_HEAD_BYTES = 1 << 16


def first_records(path: Path, sep: str, n: int = 2) -> list[list[str]]:
    """The first ``n`` non-blank records of a CSV file (fewer if it has fewer), fields left-stripped.

    Only the first 64 KiB are read; compressions the field check does not
    read give ``[]``.
    """
    raw = _open_binary(path)
    if raw is None:
        return []
    with raw:
        head = raw.read(_HEAD_BYTES)
    text = head.decode("utf-8-sig", "replace")
    out: list[list[str]] = []
    try:
        for fields in csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True):
            if len(fields) > 1 or (fields and fields[0].strip()):
                out.append(fields)
                if len(out) == n:
                    break
    except csv.Error:
        pass  # the field check names the line
    return out


def _shown(sep: str) -> str:
    return "tabs ('\\t')" if sep == "\t" else repr(sep)


def check_separator(path: Path, sep: str, records: list[list[str]]) -> None:
    """Refuse a file whose first record is one field holding another separator, as is the next record.

    Raises
    ------
    InputTypeError
        Naming the separator the file seems to use and how to read it.
    """
    if not records or len(records[0]) != 1:
        return
    first = records[0][0]
    rest = sep.join(records[1]) if len(records) > 1 else first
    for other in OTHER_SEPARATORS:
        if other != sep and other in first and other in rest:
            if other == "\t":
                fix = "rename it .tsv (read with tabs)"
            elif other == ",":
                fix = "rename it .csv (read with ',')"
            else:
                fix = (
                    f"rewrite it with {_shown(sep)} (e.g. pandas.read_csv(path, sep={other!r})"
                    ".to_csv(new_path, index=False))"
                )
            raise InputTypeError(
                f"{path}: the file seems separated by {_shown(other)}, not {_shown(sep)}: its first line "
                f"{first[:60]!r} is one column; {fix}"
            )


def check_fields(path: Path, sep: str, header: bool) -> None:
    """Check that every row of the CSV file ``path`` has as many fields as the first.

    Parameters
    ----------
    path : Path
    sep : str
        ``","`` or ``"\\t"``.
    header : bool
        Whether the first line is the header.

    Raises
    ------
    InvalidInputError
        A row with an extra or a missing field (the file and the line, counted
        from 1 with the header as line 1, are named).
    """
    FieldCheck(path, sep, header).finish()
