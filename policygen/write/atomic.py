"""Writing results: to stdout, through a stream (a FIFO, a device, /dev/stdout), or a file replaced
whole or not at all. Whatever can be known about a destination without writing to it is checked
before anything is written; a destination that fails is a UsageError naming it, exit 2."""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import tempfile
from dataclasses import dataclass

from policygen.errors import Location, UsageError

# Linux's own limits (<linux/limits.h>), for file systems that do not answer pathconf.
_NAME_MAX = 255
_PATH_MAX = 4096
# A symlink chain longer than this is a loop (Linux gives up at 40 too: ELOOP).
_MAX_LINKS = 40
# /proc/<pid>/fd and /proc/<pid>/task/<tid>/fd: the links /dev/stdout, /dev/stderr, /dev/fd/N lead to.
_DESCRIPTOR_DIRECTORY = re.compile(r"/proc/(?P<pid>\d+)(?:/task/\d+)?/fd")


@dataclass(frozen=True)
class Destination:
    """Where one output goes. `path` is what the user named (for messages); `file` is the file
    written: the target of a symlink, not the link. `through`: written in place through an open
    (a FIFO, a device, a socket, another open descriptor) instead of replaced; `descriptor` is
    one of this process's open descriptors (/dev/stdout is 1), written to as it is."""

    path: str
    file: str
    through: bool = False
    descriptor: int | None = None


@dataclass(frozen=True)
class Staged:
    """New content written in full to `temporary`, beside the file it is to replace."""

    destination: Destination
    temporary: str


def write_output(text: str, path: str | None) -> None:
    """Print `text` to stdout, write it through `path` when that is a stream (a FIFO, a device,
    /dev/stdout), or replace the file `path` names with it atomically (a temporary file, then rename)."""
    if path is None or path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    destination = output_destination(path)
    data = text.encode("utf-8")
    if destination.through:
        write_through(destination, data)
        return
    staged = stage(destination, data)
    try:
        commit([staged])
    finally:
        discard([staged])


def check_output(path: str | None) -> None:
    """Fail now, before anything is written or printed, when -o `path` cannot be a file to write."""
    if path is not None and path != "-":
        output_destination(path)


def output_destination(path: str) -> Destination:
    """Where writing `path` goes: symlinks followed, streams told apart from files; every reason
    it cannot be written that shows without writing (a name too long, a missing or unwritable
    directory, a directory where a file was meant) is a UsageError."""
    check_name_lengths(path)
    file, descriptor_link = _follow_links(path)
    if descriptor_link:
        return Destination(path, file, through=True, descriptor=_own_descriptor(file))
    try:
        mode = os.stat(file).st_mode
    except (FileNotFoundError, NotADirectoryError):  # check_directory says which
        mode = None
    except OSError as error:  # a loop, no search permission
        raise cannot_write(path, error) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError("is a directory; -o takes a file name", Location(path))
    if mode is not None and not stat.S_ISREG(mode):
        return Destination(path, file, through=True)
    check_directory(path, os.path.dirname(file) or ".")
    return Destination(path, file)


def check_name_lengths(path: str) -> None:
    """ENAMETOOLONG, said before anything is written: a path over PATH_MAX, a name over NAME_MAX
    (and an empty path, which no file has)."""
    if not path:
        raise UsageError("-o '': an empty path; -o takes a file name")
    encoded = os.fsencode(path)
    if len(encoded) >= _PATH_MAX:  # PATH_MAX counts the terminating NUL
        raise UsageError(f"the path is {len(encoded)} bytes long; the system allows {_PATH_MAX - 1}", Location(_shorten(path)))
    limit = _name_max(os.path.dirname(path) or ".")
    for name in encoded.split(b"/"):
        if len(name) > limit:
            raise UsageError(
                f"a name in the path is {len(name)} bytes long; the file system allows {limit}", Location(_shorten(path))
            )


def check_directory(path: str, directory: str) -> None:
    """The directory a new file for `path` goes into exists and can be written to."""
    try:
        mode = os.stat(directory).st_mode
    except FileNotFoundError:
        raise UsageError("the directory to write into does not exist", Location(path)) from None
    except OSError as error:
        raise cannot_write(path, error) from None
    if not stat.S_ISDIR(mode):
        raise UsageError(f"cannot write: {directory} is not a directory", Location(path))
    # access() also answers EROFS for a read-only file system, for root too.
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write into {directory}: permission denied or read-only", Location(path))


def write_through(destination: Destination, data: bytes) -> None:
    """Write into a stream in place: open it (or this process's descriptor) and write; no
    temporary file, no rename, so a FIFO stays a FIFO and /dev/null a device."""
    try:
        if destination.descriptor is not None:
            sys.stdout.flush()
            sys.stderr.flush()
            handle = os.dup(destination.descriptor)
        else:
            # Another process's descriptor link reopens what it points to: append, as a shell's
            # `>>` would, rather than write over it from the start. A FIFO or a device is opened
            # as it is (a block device has an end to append at).
            flags = os.O_WRONLY | (os.O_APPEND if _in_descriptor_directory(destination.file) else 0)
            handle = os.open(destination.file, flags | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
    except OSError as error:
        raise cannot_write(destination.path, error) from None


def stage(destination: Destination, data: bytes) -> Staged:
    """`data` written in full to a temporary file beside `destination.file`, with the mode a plain
    write would give it (the replaced file's, else 0666 less the umask: mkstemp makes 0600, and a
    CI step running as another user could not read the policy)."""
    directory = os.path.dirname(destination.file) or "."
    # A short prefix: the temporary's name must fit NAME_MAX when the target's own name just does.
    prefix = "." + os.path.basename(destination.file)[:32] + "."
    try:
        handle, temporary = tempfile.mkstemp(prefix=prefix, dir=directory)
    except OSError as error:
        raise cannot_write(destination.path, error) from None
    staged = Staged(destination, temporary)
    try:
        os.fchmod(handle, mode_for(destination.file))
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
    except BaseException as error:
        discard([staged])
        if isinstance(error, OSError):
            raise cannot_write(destination.path, error) from None
        raise
    return staged


def commit(staged: list[Staged]) -> None:
    """Rename each staged file over its destination; when one rename fails, the ones already done
    are undone (the old files put back, new ones removed), so the set is replaced whole or not at all."""
    done: list[tuple[Staged, bool, str | None]] = []
    current = staged[0] if staged else None
    try:
        for current in staged:
            existed = os.path.isfile(current.destination.file)
            backup = _keep_old(current.destination) if existed else None
            try:
                os.replace(current.temporary, current.destination.file)
            except BaseException:
                if backup is not None:
                    _remove(backup)
                raise
            done.append((current, existed, backup))
    except BaseException as error:
        for item, existed, backup in reversed(done):
            _undo(item, existed, backup)
        if isinstance(error, OSError) and current is not None:
            raise cannot_write(current.destination.path, error) from None
        raise
    for _, _, backup in done:
        if backup is not None:
            _remove(backup)


def discard(staged: list[Staged]) -> None:
    """Remove the temporaries that were not renamed into place."""
    for item in staged:
        _remove(item.temporary)


def mode_for(file: str) -> int:
    """The mode a plain write of `file` would leave: the existing file's, else 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(file).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def cannot_write(path: str, error: OSError) -> UsageError:
    reason = error.strerror or str(error)
    if error.errno == errno.ENAMETOOLONG:
        reason += " (a name over NAME_MAX or a path over PATH_MAX)"
    return UsageError(f"cannot write: {reason}", Location(_shorten(path)))


def _follow_links(path: str) -> tuple[str, bool]:
    """The file `path` names after following the symlinks of its last component (the directories
    on the way are the system's to follow), and whether the chain reached a /proc/<pid>/fd link."""
    current = path
    for _ in range(_MAX_LINKS):
        if _in_descriptor_directory(current):
            return current, True
        try:
            target = os.readlink(current)
        except OSError:  # not a link (EINVAL), or not there: the stat that follows says which
            return current, False
        current = os.path.join(os.path.dirname(current), target)
    raise cannot_write(path, OSError(errno.ELOOP, os.strerror(errno.ELOOP)))


def _in_descriptor_directory(file: str) -> bool:
    return _DESCRIPTOR_DIRECTORY.fullmatch(os.path.realpath(os.path.dirname(file) or ".")) is not None


def _own_descriptor(file: str) -> int | None:
    """The descriptor number when `file` is one of this process's /proc/<pid>/fd links."""
    match = _DESCRIPTOR_DIRECTORY.fullmatch(os.path.realpath(os.path.dirname(file) or "."))
    name = os.path.basename(file)
    if match is None or int(match["pid"]) != os.getpid() or not name.isdigit():
        return None
    return int(name)


def _keep_old(destination: Destination) -> str | None:
    """A hard link to the file about to be replaced, to put it back if a later rename fails; None
    where the file system has no hard links (the replaced file then cannot be put back)."""
    directory = os.path.dirname(destination.file) or "."
    prefix = "." + os.path.basename(destination.file)[:32] + ".old."
    for _ in range(100):
        backup = os.path.join(directory, prefix + os.urandom(4).hex())
        try:
            os.link(destination.file, backup)
            return backup
        except FileExistsError:
            continue
        except OSError as error:
            if error.errno in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
                return None
            raise
    raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), destination.file)


def _undo(item: Staged, existed: bool, backup: str | None) -> None:
    """Put back what was there before `item` was renamed into place."""
    try:
        if backup is not None:
            os.replace(backup, item.destination.file)
        elif not existed:
            os.unlink(item.destination.file)
    except OSError:
        pass  # nothing more can be done; the error that started this is the one reported


def _remove(file: str) -> None:
    try:
        os.unlink(file)
    except OSError:
        pass


def _name_max(directory: str) -> int:
    while True:
        try:
            return os.pathconf(directory, "PC_NAME_MAX")
        except (OSError, ValueError):
            parent = os.path.dirname(directory)
            if not parent or parent == directory:
                return _NAME_MAX
            directory = parent


def _shorten(path: str) -> str:
    """A path fit for a one-line message: an over-long one is cut in the middle."""
    return path if len(path) <= 200 else f"{path[:120]}...{path[-60:]}"
