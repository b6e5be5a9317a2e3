"""The service's configuration: one object, read from the environment, validated at start."""
import ipaddress
import os
from dataclasses import dataclass, fields
from pathlib import Path


PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Secrets that ship in examples, tutorials and this repository's history; refused in every environment.
KNOWN_DEFAULT_SECRETS = {
    "change-me", "changeme", "secret", "super-secret", "your-secret-key", "jwt-secret",
    "dev-secret", "development-secret-key-not-for-production-use-0000",
    "test-secret-key-that-is-long-enough-0123456789",
}
MIN_SECRET_BYTES = 32
# Settings that are gone, and what replaces them: refusing beats silently trusting nobody (or everybody).
REMOVED_SETTINGS = {"TRUSTED_PROXY_COUNT": "FORWARDED_ALLOW_IPS (the proxies' addresses or CIDRs)"}


class ConfigError(Exception):
    """The environment does not describe a service that may start."""


@dataclass
class Config:
    """Every setting the service reads, with its development default."""

    APP_ENV: str = "development"
    DATABASE_URL: str = ""
    # Scaling out (README "Scaling out"): a direct session connection when DATABASE_URL is PgBouncer in
    # transaction mode, and hot standbys for reads.
    DATABASE_DIRECT_URL: str = ""
    DATABASE_REPLICA_URLS: str = ""
    DB_REPLICA_MAX_LAG_SECONDS: float = 5.0
    # Every worker publishes its pool and cache statistics this often (the fleet's health, ?scope=all).
    HEARTBEAT_SECONDS: float = 2.0
    DATA_DIR: str = str(PROJECT_ROOT / ".data")
    JWT_SECRET_KEY: str = ""
    JWT_ACCESS_MINUTES: int = 15
    JWT_REFRESH_DAYS: int = 30
    DEMO_PASSWORD: str = "demo"
    MAX_CONTENT_LENGTH: int = 16 * 1024 * 1024
    # Pool (see pool.py). DB_POOL_MODE=none connects per request: only for the benchmark's comparison.
    DB_POOL_MODE: str = "pool"
    DB_POOL_MIN_CONNECTIONS: int = 2
    DB_POOL_MAX_CONNECTIONS: int = 10
    DB_POOL_TIMEOUT: float = 5.0
    DB_POOL_MAX_WAITING: int = 0
    DB_POOL_MAX_LIFETIME: float = 3600.0
    DB_POOL_MAX_IDLE: float = 600.0
    DB_POOL_LEAK_THRESHOLD: float = 10.0
    # Every connection (db/connect.py): seconds to connect (also how long sent data may go unacknowledged,
    # tcp_user_timeout), and TCP keepalives so a silently dead idle connection is noticed.
    DB_CONNECT_TIMEOUT: int = 5
    DB_KEEPALIVES_IDLE: int = 10
    DB_KEEPALIVES_INTERVAL: int = 5
    DB_KEEPALIVES_COUNT: int = 3
    DB_STATEMENT_TIMEOUT_MS: int = 25000
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: int = 30000
    # Operations (see ops/logs.py, ops/metrics.py, web/ratelimit.py)
    LOG_LEVEL: str = "INFO"
    SLOW_REQUEST_MS: int = 500
    METRICS_TOKEN: str = ""
    # Peers whose X-Forwarded-For/-Proto are honoured (gunicorn's setting and meaning); empty: nobody.
    FORWARDED_ALLOW_IPS: str = ""
    RATE_LIMITS_ENABLED: bool = True
    RATE_LIMIT_LOGIN_IP: str = "30/60"
    RATE_LIMIT_LOGIN_USER: str = "10/300"
    RATE_LIMIT_IMPORT: str = "10/60"
    RATE_LIMIT_LISTS: str = "600/60"
    # Lists (see web/listing.py): counts past this many rows are the planner's estimate; offsets are bounded.
    LIST_EXACT_COUNT_LIMIT: int = 1000
    LIST_MAX_OFFSET: int = 10000
    LIST_SEARCH_SORT_LIMIT: int = 10000
    # Cache (see cache.py)
    CACHE_MAX_ENTRIES: int = 10000
    # Off only for the benchmark's naive twins: no cache at all, or no single flight on a miss.
    CACHE_ENABLED: bool = True
    CACHE_SINGLE_FLIGHT: bool = True
    CACHE_TTL_STATS: int = 30
    CACHE_TTL_RECENT_JOBS: int = 60
    CACHE_TTL_JOBS_BY_STATUS: int = 120
    CACHE_TTL_JOBS_BY_MONTH: int = 300
    # Seconds between two looks for jobs that became overdue (see ops/overdue.py); 0: no scheduler in this process.
    OVERDUE_CHECK_SECONDS: float = 60.0

    @classmethod
    def from_env(cls, environ=None):
        """Build the config from `environ` (default os.environ), converting types."""
        environ = os.environ if environ is None else environ
        for name, replacement in REMOVED_SETTINGS.items():
            if environ.get(name):
                raise ConfigError(f"{name} is no longer read; set {replacement} instead")
        values = {}
        for field in fields(cls):
            raw = environ.get(field.name)
            if raw is None or raw == "":
                continue
            try:
                values[field.name] = _convert(field.type, raw)
            except ValueError:
                raise ConfigError(f"{field.name}={raw!r} is not a valid {field.type.__name__}")
        return cls(**values)

    @property
    def is_production(self):
        return self.APP_ENV == "production"

    def validate(self):
        """Raise ConfigError with a one-line reason when the service must not start."""
        if self.APP_ENV not in ("development", "test", "production"):
            raise ConfigError(f"APP_ENV must be development, test or production, not {self.APP_ENV!r}")
        if self.DB_POOL_MODE not in ("pool", "none"):
            raise ConfigError("DB_POOL_MODE must be pool or none")
        if self.DB_POOL_MIN_CONNECTIONS < 0 or self.DB_POOL_MAX_CONNECTIONS < max(1, self.DB_POOL_MIN_CONNECTIONS):
            raise ConfigError("DB_POOL_MAX_CONNECTIONS must be >= 1 and >= DB_POOL_MIN_CONNECTIONS")
        for name in ("RATE_LIMIT_LOGIN_IP", "RATE_LIMIT_LOGIN_USER", "RATE_LIMIT_IMPORT", "RATE_LIMIT_LISTS"):
            hits, _, window = getattr(self, name).partition("/")
            if not (hits.isdigit() and window.isdigit() and int(hits) > 0 and int(window) > 0):
                raise ConfigError(f"{name} must look like HITS/SECONDS, e.g. 10/60")
        try:
            parse_allowed(self.FORWARDED_ALLOW_IPS)
        except ValueError as exc:
            raise ConfigError(f"FORWARDED_ALLOW_IPS must list addresses or CIDRs (or *): {exc}")
        if self.JWT_SECRET_KEY:  # unset outside production: create_app generates one (dev_secret.py)
            _check_secret("JWT_SECRET_KEY", self.JWT_SECRET_KEY)
        if not self.is_production:
            return self
        if os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true", "yes", "on"):
            raise ConfigError("production refuses FLASK_DEBUG: the debugger runs arbitrary code")
        if not self.DATABASE_URL:
            raise ConfigError("production needs DATABASE_URL (postgresql://user:pass@host:5432/db)")
        for name in ("JWT_SECRET_KEY", "METRICS_TOKEN"):
            if not getattr(self, name):
                raise ConfigError(f"production needs {name} (generate one: "
                                  "python -c 'import secrets; print(secrets.token_urlsafe(48))')")
            _check_secret(name, getattr(self, name))
        return self

    def as_flask_config(self):
        """Return the settings as a dict for `app.config`."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _check_secret(name, secret):
    """Refuse a secret that is a placeholder, a published default, or too short to resist guessing."""
    lowered = secret.strip().lower()
    if lowered in KNOWN_DEFAULT_SECRETS or "not-for-production" in lowered:
        raise ConfigError(f"{name} is a known default value; generate a random one")
    if lowered.startswith("<") or lowered.endswith(">") or "placeholder" in lowered:
        raise ConfigError(f"{name} is still the template's placeholder; generate a random one")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} is {len(secret.encode())} bytes; it needs at least {MIN_SECRET_BYTES}")


def _convert(kind, raw):
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)
    return raw if kind is str else kind(raw)


def load_env_file(path, environ=None):
    """Copy KEY=VALUE lines of `path` into `environ` where the key is not set yet."""
    environ = os.environ if environ is None else environ
    path = Path(path)
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


def parse_allowed(text):
    """Return the networks of a comma-separated list of addresses or CIDRs ("*": every peer); ValueError if bad."""
    entries = [entry.strip() for entry in str(text).split(",") if entry.strip()]
    if "*" in entries:
        return [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    # strict, as gunicorn: 10.0.0.1/8 (host bits set) is a mistake, not 10.0.0.0/8.
    return [ipaddress.ip_network(entry, strict=True) for entry in entries]
