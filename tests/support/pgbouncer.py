"""A real PgBouncer in transaction mode with docs/operations.md's settings, in front of one PostgreSQL."""
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from apps.api.tools.embedded_pg import free_port
from tests.support.system import ensure_program, hand_over, run_as_service_user

# Seconds (PgBouncer's default is 15: a primary restart then costs 15 s of errors).
SERVER_LOGIN_RETRY = 0.5
CONFIG = """[databases]
* = host=127.0.0.1 port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
; as docs/operations.md says: after a failed login to the server (a restart), try again within a second, not 15 s
server_login_retry = {server_login_retry}
logfile = {directory}/pgbouncer.log
pidfile = {directory}/pgbouncer.pid
"""


class PgBouncer:
    """PgBouncer on a port of its own that `stop()` and `start()` restart on the same port, for real."""

    def __init__(self, server_port, password, user="postgres", server_login_retry=SERVER_LOGIN_RETRY, settings=""):
        self.program = ensure_program("pgbouncer", "pgbouncer")
        self.directory = Path(tempfile.mkdtemp(prefix="printshop-pgbouncer-"))
        self.port = free_port()
        # Clients log in to PgBouncer without a password (trust); PgBouncer logs in to the server with this one.
        (self.directory / "userlist.txt").write_text(f'"{user}" "{password}"\n')
        (self.directory / "pgbouncer.ini").write_text(
            CONFIG.format(server_port=server_port, port=self.port, directory=self.directory,
                          server_login_retry=server_login_retry) + settings)
        hand_over(self.directory)
        self.process = None

    def url(self, dbname="postgres", user="postgres"):
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def start(self, timeout=10):
        """Start PgBouncer and wait until it accepts connections; return self."""
        self.process = subprocess.Popen([self.program, str(self.directory / "pgbouncer.ini")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        **run_as_service_user())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited with {self.process.returncode}: {self.log()[-800:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pgbouncer did not listen in time")

    def stop(self):
        """Stop PgBouncer at once (SIGTERM: its immediate shutdown, every client connection cut)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def close(self):
        """Stop PgBouncer for good and remove its files."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self):
        path = self.directory / "pgbouncer.log"
        return path.read_text() if path.exists() else ""
