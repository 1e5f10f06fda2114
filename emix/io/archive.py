"""Reading a model file's ZIP members without trusting what they declare.

Every size a file declares (the ZIP entry's uncompressed size, the ``.npy``
header's shape and dtype, the metadata's shape) is checked against the others
and against the bytes actually present *before* anything of that size is
allocated, so a small file cannot make :func:`emix.load` allocate much more
than the file could hold. Members are hashed while they are read, in pieces.

Every refusal is a :class:`~emix.exceptions.ModelFileError` whose message is
``"{file}: {member}: {problem}"``; the error also carries ``path``, ``member``
and ``problem`` attributes.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ModelFileError

#: the metadata member and the most it may hold
META_NAME = "emix.json"
MAX_META_BYTES = 16 * 1024 * 1024
#: most members an archive may have (a model file has one per array and the metadata)
MAX_MEMBERS = 4096
#: a member larger than this must not be compressed more than MAX_RATIO times
RATIO_FLOOR_BYTES = 1 << 20
MAX_RATIO = 100
#: longest ``.npy`` header read (numpy's own default limit)
MAX_NPY_HEADER = 10_000
_PIECE = 1 << 20
#: array dtypes a model file may hold: booleans, integers and floats of either byte order
NUMERIC_KINDS = "biuf"


def fail(path: Any, member: str | None, problem: str) -> ModelFileError:
    """A :class:`ModelFileError` reading ``"{path}: {member}: {problem}"``.

    Parameters
    ----------
    path : path-like
        The model file.
    member : str or None
        The ZIP member at fault (None when the file as a whole is).
    problem : str
        What is wrong, and where useful what to do.

    Returns
    -------
    ModelFileError
        With ``path``, ``member`` and ``problem`` attributes.
    """
    where = f"{path}: {member}: " if member else f"{path}: "
    exc = ModelFileError(where + problem)
    exc.path, exc.member, exc.problem = str(path), member, problem
    return exc


def open_archive(path: Path) -> zipfile.ZipFile:
    """Open ``path`` as a ZIP archive after checking it is a non-empty regular file.

    Raises
    ------
    ModelFileError
        Missing, a directory, not a regular file (a FIFO or a device would block
        or never end), empty, not a ZIP archive, too many or duplicated members.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise fail(path, None, "no such file") from None
    except OSError as exc:
        raise fail(path, None, f"cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise fail(path, None, "is a directory, not a model file")
    if not stat.S_ISREG(st.st_mode):
        raise fail(path, None, f"is {_kind(st.st_mode)}, not a model file; give the path of a .emix file")
    if st.st_size == 0:
        raise fail(path, None, "not an emix model file (the file is empty)")
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise fail(path, None, "not an emix model file (not a ZIP archive, or truncated)") from None
    except OSError as exc:
        raise fail(path, None, f"cannot be read: {exc.strerror or exc}") from None
    names = zf.namelist()
    if len(names) > MAX_MEMBERS:
        zf.close()
        raise fail(path, None, f"not an emix model file ({len(names)} members; at most {MAX_MEMBERS})")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        zf.close()
        raise fail(path, dup, "the archive holds this member twice (the file was altered); refit the model")
    return zf


def _kind(mode: int) -> str:
    """``'a FIFO'``, ``'a character device'``... for a file mode that is not a regular file."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_member(zf: zipfile.ZipFile, name: str, path: Path, *, limit: int, sha256: bool = False):
    """The bytes of member ``name`` (and their SHA-256 if asked), read in pieces of at most ``limit`` in all.

    Parameters
    ----------
    zf : zipfile.ZipFile
    name : str
        The member.
    path : Path
        The model file, for messages.
    limit : int
        Refuse a member whose declared uncompressed size is larger.
    sha256 : bool, default=False
        Also return the hex digest of the bytes.

    Returns
    -------
    bytes, or (bytes, str) when ``sha256``

    Raises
    ------
    ModelFileError
        Missing member; declared size over ``limit`` or implausibly compressed;
        corrupt data (CRC), with the member's byte offset in the file.
    """
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise fail(path, name, "member is missing from the archive") from None
    if info.file_size > limit:
        raise fail(path, name, f"declares {info.file_size} bytes, more than this member may hold ({limit})")
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise fail(
            path,
            name,
            f"declares {info.file_size} bytes stored in {info.compress_size} (compressed over "
            f"{MAX_RATIO} times: not a model emix wrote); refit the model",
        )
    digest = hashlib.sha256()
    parts = []
    try:
        with zf.open(info) as fh:
            while piece := fh.read(_PIECE):
                parts.append(piece)
                digest.update(piece)
    except Exception as exc:  # BadZipFile (CRC), zlib.error, EOFError, OSError...
        raise fail(
            path,
            name,
            f"member {name!r} is corrupt ({type(exc).__name__}: {exc}; its entry starts at byte offset "
            f"{info.header_offset} of the file); restore the file or refit the model",
        ) from None
    data = b"".join(parts)
    return (data, digest.hexdigest()) if sha256 else data


def read_meta(zf: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    """The metadata ``emix.json`` as a dict (NaN and Infinity refused: emix never writes them).

    Raises
    ------
    ModelFileError
        No metadata, too large, not UTF-8 JSON (with line, column and byte),
        not an object.
    """
    if META_NAME not in zf.namelist():
        raise fail(path, None, f"not an emix model file (no {META_NAME} inside)")
    if zf.getinfo(META_NAME).file_size > MAX_META_BYTES:
        size = zf.getinfo(META_NAME).file_size
        raise fail(path, META_NAME, f"{META_NAME} is implausibly large ({size} bytes)")
    raw = read_member(zf, META_NAME, path, limit=MAX_META_BYTES)

    def no_constant(name: str) -> None:
        raise ValueError(f"{name} is not a JSON number")

    try:
        meta = json.loads(raw.decode("utf-8"), parse_constant=no_constant)
    except UnicodeDecodeError as exc:
        raise fail(path, META_NAME, f"metadata is not valid JSON (not UTF-8 at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise fail(
            path,
            META_NAME,
            f"metadata is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}, byte offset {exc.pos})",
        ) from None
    except ValueError as exc:
        raise fail(path, META_NAME, f"metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise fail(path, META_NAME, f"not an emix model file (format is {None!r})")
    return meta


def check_entry(key: str, entry: Any, path: Path) -> tuple[str, np.dtype, tuple[int, ...]]:
    """The member name, dtype and shape an ``arrays`` entry of the metadata declares, checked.

    Raises
    ------
    ModelFileError
        A malformed entry, a dtype that is not a number, a shape that is not
        a list of non-negative integers.
    """
    if not isinstance(entry, dict) or not all(k in entry for k in ("file", "dtype", "shape", "sha256")):
        raise fail(path, META_NAME, f"array entry {key!r} is malformed")
    member, dtype, shape = entry["file"], entry["dtype"], entry["shape"]
    if not isinstance(member, str) or not isinstance(entry["sha256"], str):
        raise fail(path, META_NAME, f"array entry {key!r} is malformed")
    try:
        dt = np.dtype(dtype) if isinstance(dtype, str) else None
    except TypeError:
        dt = None
    if dt is None or dt.kind not in NUMERIC_KINDS or dt.str != dtype:
        raise fail(path, member, f"array {key!r} has dtype {dtype!r}; only numbers can be stored")
    ok = isinstance(shape, list) and all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    )
    if not ok or len(shape) > 3:
        raise fail(path, member, f"array {key!r} has shape {shape!r}; expected at most 3 non-negative sizes")
    return member, dt, tuple(shape)


def npy_header(blob: bytes, member: str, key: str, path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Parse a ``.npy`` header: shape, Fortran order, dtype and the offset where the data starts.

    Raises
    ------
    ModelFileError
        Not a ``.npy`` file, a header too long or unreadable, an object dtype.
    """
    fh = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(fh)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"unknown .npy version {version}")
        read = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version, np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(fh, max_header_size=MAX_NPY_HEADER)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise fail(path, member, f"array {key!r} cannot be read (not a .npy array: {exc})") from None
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS:
        raise fail(path, member, f"array {key!r} cannot be read (dtype {dtype!s} is not a number)")
    return tuple(shape), bool(fortran), dtype, fh.tell()


def read_array(zf: zipfile.ZipFile, key: str, entry: Any, path: Path, *, limit: int) -> np.ndarray:
    """Read the array ``key`` of the metadata, checking sizes before reading its data.

    Parameters
    ----------
    zf : zipfile.ZipFile
    key : str
        The array's name in the metadata (``means_``, ``init/means_init``...).
    entry : dict
        Its metadata entry (``file``, ``dtype``, ``shape``, ``sha256``).
    path : Path
        The model file, for messages.
    limit : int
        The most bytes this array may hold (:data:`MAX_RATIO` times the file's size).

    Returns
    -------
    ndarray
        In native byte order, C-contiguous.

    Raises
    ------
    ModelFileError
        Naming the member: sizes that disagree (metadata, ZIP entry, ``.npy``
        header), more bytes than the file can hold, a checksum mismatch, a
        dtype or shape that is not what the metadata says.
    """
    member, dtype, shape = check_entry(key, entry, path)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes > limit:
        raise fail(
            path,
            member,
            f"array {key!r} declares shape {list(shape)} ({nbytes} bytes), more than this file can hold "
            f"(at most {limit} bytes): a crafted or damaged file, refit the model",
        )
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise fail(path, member, "member is missing from the archive") from None
    header_room = info.file_size - nbytes
    if not 0 < header_room <= MAX_NPY_HEADER + 16:
        raise fail(
            path,
            member,
            f"array {key!r}: the archive says the member holds {info.file_size} bytes, but "
            f"shape {list(shape)} of {dtype.str} needs {nbytes} bytes of data; the file was altered or truncated",
        )
    blob, digest = read_member(zf, member, path, limit=nbytes + MAX_NPY_HEADER + 16, sha256=True)
    if digest != entry["sha256"]:
        raise fail(path, member, f"array {key!r} does not match its checksum (file corrupt or tampered)")
    got_shape, fortran, got_dtype, start = npy_header(blob, member, key, path)
    if got_dtype.str != dtype.str:
        raise fail(path, member, f"array {key!r} has dtype {got_dtype.str}, metadata says {entry['dtype']!r}")
    if got_shape != shape:
        raise fail(path, member, f"array {key!r} has shape {list(got_shape)}, metadata says {list(shape)}")
    if len(blob) - start != nbytes:
        raise fail(
            path,
            member,
            f"array {key!r} holds {len(blob) - start} bytes of data after its header (byte offset "
            f"{start}); shape {list(shape)} of {dtype.str} needs {nbytes}",
        )
    arr = np.frombuffer(blob, dtype=dtype, count=int(np.prod(shape, dtype=np.int64)), offset=start)
    arr = arr.reshape(shape, order="F" if fortran else "C")
    # (np.ascontiguousarray would turn a 0-d array into shape (1,))
    return np.require(arr.astype(dtype.newbyteorder("="), copy=True), requirements="C")
