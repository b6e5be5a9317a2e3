"""Outside production, a JWT secret generated on first run and kept in DATA_DIR, shared by every worker.

Trusted only when this user wrote it: the directory and the file must be ours and writable by nobody else
(whoever can write either could plant a secret of their own and sign any token), and the file is opened
without following a link.
"""
import os
import secrets
import stat
from pathlib import Path

from .config import ConfigError
from .private_files import UnsafeFile, check_ours

FILENAME = "jwt-secret"


def _check_ours(path, info, others_mask, what):
    try:
        check_ours(path, info, others_mask, what)
    except UnsafeFile as exc:
        raise ConfigError(str(exc)) from None


def _create(path):
    temporary = path.with_name(f".{FILENAME}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)  # atomic and never replaces: workers starting together agree on one
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def dev_secret(data_dir):
    """Return the secret in `data_dir`, creating it (random, mode 0600) when there is none."""
    directory = Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    _check_ours(directory, directory.stat(), stat.S_IWGRP | stat.S_IWOTH, "directory")
    path = directory / FILENAME
    if not os.path.lexists(path):
        _create(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a FIFO never blocks us
    except OSError as exc:  # ELOOP: a symbolic link where the secret should be
        raise ConfigError(f"{path} cannot be opened as a plain file ({exc.strerror}); delete it for a new one") from exc
    with os.fdopen(descriptor) as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path} is not a regular file; delete it for a new one")
        _check_ours(path, info, 0o077, "secret")
        return file.read().strip()
