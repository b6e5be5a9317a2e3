"""A real nginx load balancer in front of several app instances (docs/operations.md's configuration)."""
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
from pathlib import Path

from apps.api.tools.embedded_pg import free_port
from tests.support.gunicorn import http_request
from tests.support.system import ensure_program

CONFIG = """worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    upstream printshop {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 16m;
        location / {{
            proxy_pass http://printshop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # An instance that refuses the connection (stopped) is skipped; a request it already
            # received is never sent twice (a POST could be applied twice).
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


class Nginx:
    """nginx on a port of its own, balancing over `upstream_ports` (round robin, failover on refusal)."""

    def __init__(self, upstream_ports):
        self.program = ensure_program("nginx", "nginx-light")
        self.directory = Path(tempfile.mkdtemp(prefix="printshop-nginx-"))
        self.port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in upstream_ports)
        (self.directory / "nginx.conf").write_text(CONFIG.format(directory=self.directory, port=self.port,
                                                                 servers=servers))
        self.process = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=10):
        """Start nginx in the foreground and wait until it answers; return self."""
        self.process = subprocess.Popen(
            [self.program, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"),
             "-e", str(self.directory / "error.log"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}")
            try:
                if self.request("GET", "/api/health")[0] == 200:
                    return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise RuntimeError("nginx did not answer in time")

    def request(self, method, path, body=None, headers=None, timeout=10):
        """Send one request through nginx; return (status, headers, parsed JSON body or raw text)."""
        return http_request(self.base_url, method, path, body, headers, timeout)

    def stop(self):
        """Stop nginx gracefully and remove its files."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
