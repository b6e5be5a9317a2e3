"""Outside production, a JWT secret generated on first run and kept in DATA_DIR, shared by every worker."""
import os
import secrets
from pathlib import Path

from .config import ConfigError

FILENAME = "jwt-secret"


def dev_secret(data_dir):
    """Return the secret in `data_dir`, creating it (random, mode 0600) when there is none."""
    path = Path(data_dir) / FILENAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{FILENAME}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)  # atomic and never replaces: workers starting together agree on one
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"{path} is readable by others; chmod 600 it (or delete it for a new one)")
    return path.read_text().strip()
