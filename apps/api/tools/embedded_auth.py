"""How the embedded PostgreSQL lets clients in: SCRAM with a generated superuser password, never "trust".

Another local user reaches 127.0.0.1 too, so a trusting server makes every local user its superuser. The
password is generated once, kept beside the cluster (readable by this user only) and goes in the URL.
"""
import os
import secrets
import tempfile
from contextlib import contextmanager

AUTH_METHOD = "scram-sha-256"
# PBKDF2 rounds of the stored verifier. Rounds slow down guessing a weak password from a stolen verifier; this
# password is 192 random bits, so they would only add about 10 ms to every connection (4,096, the default).
SCRAM_ITERATIONS = 64
# Written into the cluster once the superuser's verifier is ours (not initdb's): copied by pg_basebackup too.
MARKER = "printshop-password-set"


class PasswordFileError(RuntimeError):
    """The kept password is not this user's alone."""


def write_private(path, text, exclusive=False):
    """Write `text` to `path` readable by this user only (never through a link)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_EXCL if exclusive else os.O_TRUNC)
    with os.fdopen(os.open(path, flags, 0o600), "w") as file:
        file.write(text + "\n")


def kept_password(path):
    """Return the password kept in `path`, generating it the first time."""
    if not os.path.lexists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_private(path, secrets.token_hex(24), exclusive=True)
        except FileExistsError:
            pass  # another process made it first
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW)) as file:
        info = os.fstat(file.fileno())
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise PasswordFileError(f"{path} must be this user's and mode 0600")
        return file.read().strip()


@contextmanager
def password_file_for(password, owner=None):
    """Yield a temporary file holding `password` (for initdb --pwfile), given to `owner` (uid, gid); remove it."""
    descriptor, path = tempfile.mkstemp(prefix="printshop-pw-")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(password + "\n")
        if owner is not None:
            os.chown(path, *owner)
        yield path
    finally:
        os.unlink(path)


def trusting(data_dir):
    """Tell whether the cluster in `data_dir` lets anyone in without a password (made before passwords were)."""
    rules = (data_dir / "pg_hba.conf").read_text().splitlines()
    return any(line.split()[-1:] == ["trust"] for line in rules if not line.lstrip().startswith("#"))


def password_set(data_dir):
    """Tell whether the superuser's verifier is ours already and every rule asks for it."""
    return (data_dir / MARKER).exists() and not trusting(data_dir)


def set_password(url, superuser, password, data_dir):
    """Store `password` for `superuser` with SCRAM_ITERATIONS rounds, and make every rule of `data_dir` ask for
    it (a cluster made when it trusted local connections gets it at its next start)."""
    from psycopg2 import sql

    from ..db import Queries
    from ..db.connect import connect

    queries = Queries("tools.sql")
    conn = connect(url, "embedded-auth")  # a trusting cluster takes any password
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(queries.set_scram_iterations, {"iterations": SCRAM_ITERATIONS})
            cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(superuser)), (password,))
            hba = data_dir / "pg_hba.conf"
            hba.write_text("\n".join(
                line.rsplit("trust", 1)[0] + AUTH_METHOD
                if line.split()[-1:] == ["trust"] and not line.lstrip().startswith("#") else line
                for line in hba.read_text().splitlines()) + "\n")
            cur.execute(queries.reload_configuration)
    finally:
        conn.close()
    (data_dir / MARKER).touch()
