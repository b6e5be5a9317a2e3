"""Programs the suite needs from the system (pgbouncer, nginx): installed with apt-get when missing."""
import os
import shutil
import subprocess

import pytest

from apps.api.tools import embedded_root


def ensure_program(program, package):
    """Return the path of `program`, installing Debian's `package` when missing; skip, saying why, when
    apt-get itself is impossible here."""
    found = shutil.which(program) or next((p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}")
                                           if os.path.exists(p)), None)
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip(f"{program} is missing and this machine has no apt-get to install {package}")
    if os.geteuid() != 0:
        pytest.skip(f"{program} is missing and apt-get needs root to install {package}")
    print(f"\n[setup] {program} is missing: installing Debian's {package} with apt-get", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "install", "-y", "-q", package], ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", package]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if command[1] == "install" and result.returncode == 0:
            break
    found = shutil.which(program) or (f"/usr/sbin/{program}" if os.path.exists(f"/usr/sbin/{program}") else None)
    if not found:
        pytest.fail(f"apt-get could not install {package}: {result.stderr.strip()[-500:]}")
    return found


def run_as_service_user():
    """Return Popen arguments that run a server (PgBouncer refuses root) as the embedded PostgreSQL's
    server user when we are root, else as ourselves."""
    if os.geteuid() != 0:
        return {}
    uid, gid = embedded_root.server_identity()
    return {"user": uid, "group": gid, "extra_groups": [], "cwd": "/"}


def hand_over(path):
    """Give `path` (a fresh temp directory of the test's) to that user when we are root, so its server
    can write there (a temp directory's parents are traversable: nothing else is opened up)."""
    identity = run_as_service_user()
    if identity:
        os.chown(path, identity["user"], identity["group"])
