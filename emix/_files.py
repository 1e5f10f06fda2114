"""Writing files atomically: a temporary file in the destination's folder, then a rename.

Used by every writer in emix (model files, tables, pictures), so that an
interrupted write leaves the old file or none, never half a file.

The destination must be a regular file or not exist yet. A symbolic link is
written *through*: its target is replaced (atomically, in the target's folder)
and the link stays a link. A directory, a device such as ``/dev/null``, a FIFO
or a socket is refused, since renaming over it would replace it (or fail).
Every failure is an :class:`~emix.exceptions.OutputFileError` (an ``OSError``)
naming the path the caller gave, never the temporary file, and saying what
to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from .exceptions import OutputFileError

__all__ = ["atomic_write_bytes", "check_destination"]


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_destination(path: str | os.PathLike) -> tuple[Path, int | None]:
    """Where writing ``path`` will go, and the mode of the file it replaces.

    Parameters
    ----------
    path : str or path-like
        The destination as the caller gave it.

    Returns
    -------
    target : Path
        ``path`` itself, or the file a symbolic link ``path`` points to.
    mode : int or None
        The permission bits of the existing target (kept by the write), None
        when it does not exist yet.

    Raises
    ------
    OutputFileError
        The destination (or the link's target) is a directory, a device, a
        FIFO or a socket; a link loops; the folder does not exist or is not a
        folder.
    """
    user = Path(path)
    target = Path(os.path.realpath(user)) if user.is_symlink() else user
    via = f" {target} (the target of the link {user})" if target != user else ""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _error(user, exc, target.parent) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = _kind(st.st_mode)
        hint = (
            f"give a file name inside it, e.g. {Path(target) / 'out.emix'}"
            if stat.S_ISDIR(st.st_mode)
            else "emix replaces its destination whole (a temporary file renamed over it), so give "
            "the path of a regular file"
        )
        code = errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EINVAL
        raise OutputFileError(code, f"{user}: cannot write{via}: it is {kind}; {hint}", str(user))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise OutputFileError(
            errno.ENOENT if not folder.exists() else errno.ENOTDIR,
            f"{user}: cannot write: the folder {folder} {what}; create it or choose another destination",
            str(user),
        )
    return target, None if st is None else stat.S_IMODE(st.st_mode)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    An interrupted write leaves either the old file or none, never half a
    file. A symbolic link is written through to its target; an existing
    file keeps its permission bits.

    Parameters
    ----------
    path : str or path-like
        The destination: a regular file, a link to one, or a new name.
    data : bytes
        The whole content.

    Raises
    ------
    OutputFileError
        The destination is not a regular file (see :func:`check_destination`),
        or writing failed (permission, read-only folder, no space left): the
        message names ``path``, and the old file, if any, is unchanged.
    """
    user = Path(path)
    target, mode = check_destination(user)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _error(user, exc, folder) from None
    try:
        # mkstemp creates the file private (0600); give it the mode a plain open() would
        os.chmod(tmp, (0o666 & ~_UMASK) if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputFileError):
            raise _error(user, exc, folder) from None
        raise


def _error(user: Path, exc: OSError, folder: Path) -> OutputFileError:
    """``exc`` (about a temporary file, or the destination) as an OutputFileError naming ``user``."""
    code = exc.errno
    reason = exc.strerror or str(exc) or type(exc).__name__
    if code in (errno.EACCES, errno.EPERM):
        fix = f"the folder {folder} is read-only or not yours: choose another destination"
    elif code == errno.EROFS:
        fix = "the file system is read-only: choose another destination"
    elif code == errno.ENOSPC or code == getattr(errno, "EDQUOT", None):
        fix = "free some space or choose another destination; the old file, if any, is unchanged"
    elif code == errno.ENOENT:
        fix = f"the folder {folder} does not exist: create it or choose another destination"
    elif code == errno.ENOTDIR:
        fix = f"{folder} is not a folder: choose another destination"
    elif code == errno.ELOOP:
        fix = "a symbolic link on the way loops: fix the link or choose another destination"
    else:
        fix = "the old file, if any, is unchanged"
    return OutputFileError(code, f"{user}: cannot write ({reason}); {fix}", str(user))


def _current_umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


_UMASK = _current_umask()
