"""Files only this user may have written: an owned, private directory, and files created new, never followed.

A shared directory (backups, audit archives, DATA_DIR) may hold what another user planted: a symbolic link
to root's file, or a `.partial` of their own that we would write our rows into. So the directory must be
this user's and writable by nobody else, and every file is created with O_CREAT | O_EXCL | O_NOFOLLOW at
mode 0600: an existing name, link or not, is refused, never reused.
"""
import os
import stat
from pathlib import Path

CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW


class UnsafeFile(Exception):
    """A path this user cannot trust; the message says what to do."""


def check_ours(path: Path, info: os.stat_result, others_mask: int, what: str) -> None:
    """Raise UnsafeFile unless `info` (of `path`) belongs to this user and has none of `others_mask`'s bits."""
    if info.st_uid != os.geteuid():
        raise UnsafeFile(f"{path} belongs to user {info.st_uid}, not to this user ({os.geteuid()}): "
                         f"refusing a {what} someone else may have written")
    if info.st_mode & others_mask:
        raise UnsafeFile(f"{path} is {'readable' if what == 'secret' else 'writable'} by others; "
                         f"chmod {'600' if what == 'secret' else 'go-w'} it (or delete it for a new one)")


def private_directory(directory: Path | str) -> Path:
    """Return `directory`, created 0700 if missing, after checking it is ours and not group/other-writable."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_ours(directory, directory.stat(), stat.S_IWGRP | stat.S_IWOTH, "directory")  # as DATA_DIR is checked
    return directory


def create_new(path: Path | str) -> int:
    """Create `path` for writing (0600 from the start) and return its descriptor; refuse any existing entry."""
    path = Path(path)
    try:
        return os.open(path, CREATE_NEW, 0o600)
    except FileExistsError:
        kind = "symbolic link" if path.is_symlink() else "file"
        leftover = " (left by an interrupted run, or planted)" if path.name.endswith(".partial") else ""
        raise UnsafeFile(f"{path} already exists as a {kind}{leftover}; refusing to follow or reuse it: "
                         "check who wrote it, remove it, and run again") from None
