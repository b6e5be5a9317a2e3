"""One module opens every connection (apps/api/db/connect.py): the same connect timeout, TCP keepalives and
tcp_user_timeout everywhere, an application_name naming the role, and a statement timeout for the scheduler.

The settings are read where they take effect: the client socket's options (found through the backend's
client port in pg_stat_activity), and the scheduler's statements really being cancelled.
"""
import ast
import logging
import os
import socket
from pathlib import Path

import psutil
import psycopg2

from apps.api import open_resources
from apps.api.ops.overdue import OverdueScheduler
from tests.support.source import syntax_tree
from tests.support.waiting import eventually

PACKAGE = Path(__file__).resolve().parents[2] / "apps" / "api"


def connect_callers(package=PACKAGE):
    """Return the modules under `package` that call psycopg2.connect (or a `connect` imported from psycopg2)."""
    callers = set()
    for path in sorted(package.rglob("*.py")):
        tree = syntax_tree(path)
        imported = {alias.asname or alias.name for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module == "psycopg2"
                    for alias in node.names if alias.name == "connect"}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "connect" and isinstance(func.value, ast.Name)
                    and func.value.id == "psycopg2") or (isinstance(func, ast.Name) and func.id in imported):
                callers.add(str(path.relative_to(package)))
    return sorted(callers)


def test_only_the_connect_module_calls_psycopg2_connect():
    assert connect_callers() == ["db/connect.py"]


def test_the_check_sees_another_caller(tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "loop.py").write_text("import psycopg2\nconn = psycopg2.connect('dbname=x')\n")
    (tmp_path / "tool.py").write_text("from psycopg2 import connect as open_db\nopen_db('dbname=x')\n")
    assert connect_callers(tmp_path) == ["ops/loop.py", "tool.py"]


def client_socket_options(db, role):
    """Return the TCP options of this process's socket of its `role` connection, found by its client port."""
    name = f"printshop:{role}:{os.getpid()}"

    def client_port():
        with db.cursor() as cur:
            cur.execute("SELECT client_port FROM pg_stat_activity WHERE application_name = %s", (name,))
            row = cur.fetchone()
        return row[0] if row else None

    port = eventually(client_port, timeout=10)
    assert port, f"no connection named {name} in pg_stat_activity"
    (fd,) = [c.fd for c in psutil.Process().net_connections(kind="tcp") if c.laddr and c.laddr.port == port]
    sock = socket.socket(fileno=os.dup(fd))
    try:
        return {"keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                "idle": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                "interval": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                "count": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                "user_timeout_ms": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)}
    finally:
        sock.close()  # a duplicate: the connection's own descriptor stays open


def test_pool_listener_and_scheduler_connections_carry_the_same_settings(database_url, new_app, db):
    app = new_app(database_url, DB_CONNECT_TIMEOUT=3, DB_KEEPALIVES_IDLE=7, DB_KEEPALIVES_INTERVAL=2,
                  DB_KEEPALIVES_COUNT=4, OVERDUE_CHECK_SECONDS=0.2)
    open_resources(app)
    expected = {"keepalive": 1, "idle": 7, "interval": 2, "count": 4, "user_timeout_ms": 3000}
    for role in ("pool", "listener", "overdue"):
        assert client_socket_options(db, role) == expected, role


def test_the_scheduler_statement_is_cancelled_instead_of_hanging(database_url, new_app, db, caplog):
    """A sweep stuck behind a lock (as on a half-open network) fails after DB_STATEMENT_TIMEOUT_MS and
    the scheduler reconnects, instead of waiting as long as the lock is held."""
    app = new_app(database_url, DB_STATEMENT_TIMEOUT_MS=300, OVERDUE_CHECK_SECONDS=0)
    name = f"printshop:overdue:{os.getpid()}"
    seen = set()

    def backends():
        with db.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,))
            seen.update(row[0] for row in cur.fetchall())
        return len(seen) >= 3

    locker = psycopg2.connect(database_url)
    scheduler = OverdueScheduler(database_url, 0.1, app.config)
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE overdue_notices IN ACCESS EXCLUSIVE MODE")  # held until rollback
        with caplog.at_level(logging.WARNING, logger="apps.api.ops.overdue"):
            scheduler.start()
            reconnected = eventually(backends, timeout=10, step=0.05)
    finally:
        locker.rollback()  # first: a sweep still waiting for the lock ends, so the scheduler can stop
        locker.close()
        scheduler.stop()
    assert reconnected, f"one backend waited behind the lock all along: {seen}"
    assert "statement timeout" in caplog.text
