"""The service's configuration: one object, read from the environment, validated at start."""
import ipaddress
import math
import multiprocessing
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .trust import forwarded_allow_problem, parse_hosts

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Secrets that ship in examples, tutorials and this repository's history; refused in every environment.
KNOWN_DEFAULT_SECRETS = {
    "change-me", "changeme", "secret", "super-secret", "your-secret-key", "jwt-secret",
    "dev-secret", "development-secret-key-not-for-production-use-0000",
    "test-secret-key-that-is-long-enough-0123456789",
}
MIN_SECRET_BYTES = 32
# A secret must also look random: not one short unit repeated, this many different characters and this many
# bits by its own character frequencies (32 random hex digits: 87 bits at worst in 200,000 draws, about 110
# typically; token_urlsafe(48): about 350).
MIN_SECRET_DISTINCT = 8
MIN_SECRET_BITS = 80
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
    # A session's absolute lifetime from its password login, however often it is refreshed (seconds).
    SESSION_MAX_AGE: int = 30 * 24 * 3600
    DEMO_PASSWORD: str = "demo"
    MAX_CONTENT_LENGTH: int = 16 * 1024 * 1024
    # Routes anyone may call without a token (login above all) read at most this much of a body.
    PUBLIC_MAX_CONTENT_LENGTH: int = 4096
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
    # Migrations (see db/migrate.py): how long a migration may wait for a table's lock (traffic queues behind
    # a waiting migration meanwhile) before it gives way and tries again, and how many tries in all.
    MIGRATION_LOCK_TIMEOUT_MS: int = 2000
    MIGRATION_LOCK_ATTEMPTS: int = 5
    # The runner waits at most this long (seconds) for another runner's advisory lock, then gives up with an error.
    MIGRATION_LOCK_WAIT_S: float = 120.0
    # Operations (see ops/logs.py, web/request_log.py, ops/metrics.py, web/ratelimit.py)
    LOG_LEVEL: str = "INFO"
    SLOW_REQUEST_MS: int = 500
    METRICS_TOKEN: str = ""
    # Peers whose X-Forwarded-For/-Proto are honoured (gunicorn's setting and meaning); empty: nobody.
    FORWARDED_ALLOW_IPS: str = ""
    # Host names the service answers to (Flask's setting; comma-separated, ".example.com" for every subdomain).
    # Required in production; in development: localhost, 127.0.0.1, ::1 and BIND (see trust.py).
    TRUSTED_HOSTS: str = ""
    # The address gunicorn binds (gunicorn.conf.py reads it too).
    BIND: str = "127.0.0.1"
    RATE_LIMITS_ENABLED: bool = True
    RATE_LIMIT_LOGIN_IP: str = "30/60"
    RATE_LIMIT_LOGIN_USER: str = "10/300"
    RATE_LIMIT_IMPORT: str = "10/60"
    RATE_LIMIT_LISTS: str = "600/60"
    # Lists (see web/listing.py): counts past this many rows are the planner's estimate; offsets are bounded.
    LIST_EXACT_COUNT_LIMIT: int = 1000
    LIST_MAX_OFFSET: int = 10000
    LIST_SEARCH_SORT_LIMIT: int = 10000
    # Cache (see cache/ and web/cached.py)
    CACHE_MAX_ENTRIES: int = 10000
    # Off only for the benchmark's naive twins: no cache at all, or no single flight on a miss.
    CACHE_ENABLED: bool = True
    CACHE_SINGLE_FLIGHT: bool = True
    CACHE_TTL_STATS: int = 30
    CACHE_TTL_RECENT_JOBS: int = 60
    CACHE_TTL_OVERDUE_JOBS: int = 30
    CACHE_TTL_JOBS_BY_STATUS: int = 120
    CACHE_TTL_JOBS_BY_MONTH: int = 300
    # The wall board's feed (GET /api/board): dropped by any change anyway, so the TTL only bounds a day's turn.
    CACHE_TTL_BOARD: int = 30
    # Seconds between two looks for jobs that became overdue (see ops/overdue.py); 0: no scheduler in this process.
    OVERDUE_CHECK_SECONDS: float = 60.0
    # Each worker asks PostgreSQL about a login session at most once per this many seconds (web/sessions.py):
    # an ended session's tokens are refused by every worker within it.
    SESSION_STATE_TTL_SECONDS: float = 1.0
    # The process around the app: gunicorn.conf.py takes its settings from here (so that nothing else reads
    # the environment). WEB_CONCURRENCY 0: default_workers(). GRACEFUL_DRAIN_SECONDS: readiness answers 503
    # this long after SIGTERM before the graceful stop (ops/draining.py).
    WEB_CONCURRENCY: int = 0
    PORT: int = 5000
    GUNICORN_WORKER_CLASS: str = "gthread"
    GUNICORN_THREADS: int = 4
    GUNICORN_TIMEOUT: int = 30
    GUNICORN_GRACEFUL_TIMEOUT: int = 30
    GUNICORN_KEEPALIVE: int = 5
    GUNICORN_MAX_REQUESTS: int = 10000
    GUNICORN_MAX_REQUESTS_JITTER: int = 1000
    GUNICORN_ACCESS_LOG: str = ""
    GUNICORN_CONTROL_SOCKET: str = ""
    GRACEFUL_DRAIN_SECONDS: float = 0.0
    INSTANCE_NAME: str = ""
    PROMETHEUS_MULTIPROC_DIR: str = ""
    PRINTSHOP_DRAIN_FILE: str = ""
    FLASK_DEBUG: bool = False
    # As root only: where the embedded PostgreSQL's programs and clusters live (tools/embedded_root.py).
    EMBEDDED_PG_HOME: str = ""
    # Retention (see ops/retention.py), run by that same scheduler every RETENTION_CHECK_SECONDS (0: never;
    # `flask retention` from cron instead). Days 0: keep that table whole. The audit log is kept longest,
    # by whole months: a month goes (exported to AUDIT_ARCHIVE_DIR, default DATA_DIR/audit-archive) once
    # its last day is past the limit.
    RETENTION_CHECK_SECONDS: float = 3600.0
    AUDIT_LOG_RETENTION_DAYS: int = 400
    FAILED_LOGIN_RETENTION_DAYS: int = 90
    READ_NOTIFICATION_RETENTION_DAYS: int = 30
    RETENTION_BATCH_ROWS: int = 1000
    AUDIT_ARCHIVE_DIR: str = ""
    # The dashboard's flag of timers left running (GET /api/reports/running-timers): a step in progress whose
    # work segment has run longer than STEP_TIMER_LIMIT_HOURS, or began before the last end of a shift
    # (SHIFT_END, HH:MM on the clock of SHIFT_TIMEZONE, an IANA zone name).
    STEP_TIMER_LIMIT_HOURS: float = 10.0
    SHIFT_END: str = "18:00"
    SHIFT_TIMEZONE: str = "UTC"

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
                kind = getattr(field.type, "__name__", field.type)
                raise ConfigError(f"{field.name}={raw!r} is not a valid {kind}") from None
        return cls(**values)

    def with_overrides(self, overrides):
        """Return a copy with `overrides` ({setting: value}) applied; ConfigError names any unknown setting."""
        known = {field.name for field in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown setting{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        return replace(self, **overrides)

    @property
    def workers(self):
        """Return how many gunicorn workers serve: WEB_CONCURRENCY, or gunicorn.conf.py's default."""
        return self.WEB_CONCURRENCY or default_workers()

    @property
    def is_production(self):
        return self.APP_ENV == "production"

    def validate(self):
        """Raise ConfigError with a one-line reason when the service must not start."""
        if self.APP_ENV not in ("development", "test", "production"):
            raise ConfigError(f"APP_ENV must be development, test or production, not {self.APP_ENV!r}")
        if self.SESSION_MAX_AGE < 60:
            raise ConfigError("SESSION_MAX_AGE must be at least 60 (seconds)")
        if self.DB_POOL_MODE not in ("pool", "none"):
            raise ConfigError("DB_POOL_MODE must be pool or none")
        for name in ("AUDIT_LOG_RETENTION_DAYS", "FAILED_LOGIN_RETENTION_DAYS", "READ_NOTIFICATION_RETENTION_DAYS"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 (keep everything) or more days")
        if not self.STEP_TIMER_LIMIT_HOURS > 0:
            raise ConfigError("STEP_TIMER_LIMIT_HOURS must be more than 0")
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", self.SHIFT_END):
            raise ConfigError(f"SHIFT_END must be a time of day as HH:MM (24 h), not {self.SHIFT_END!r}")
        try:
            ZoneInfo(self.SHIFT_TIMEZONE)
        except (ValueError, ZoneInfoNotFoundError):
            raise ConfigError(f"SHIFT_TIMEZONE must name a time zone such as Europe/Berlin, not "
                              f"{self.SHIFT_TIMEZONE!r}") from None
        if self.RETENTION_BATCH_ROWS < 1:
            raise ConfigError("RETENTION_BATCH_ROWS must be at least 1")
        if self.MIGRATION_LOCK_TIMEOUT_MS < 1 or self.MIGRATION_LOCK_ATTEMPTS < 1:
            raise ConfigError("MIGRATION_LOCK_TIMEOUT_MS and MIGRATION_LOCK_ATTEMPTS must be at least 1")
        if not self.MIGRATION_LOCK_WAIT_S > 0:
            raise ConfigError("MIGRATION_LOCK_WAIT_S must be more than 0 (seconds)")
        if self.DB_POOL_MIN_CONNECTIONS < 0 or self.DB_POOL_MAX_CONNECTIONS < max(1, self.DB_POOL_MIN_CONNECTIONS):
            raise ConfigError("DB_POOL_MAX_CONNECTIONS must be >= 1 and >= DB_POOL_MIN_CONNECTIONS")
        for name in ("RATE_LIMIT_LOGIN_IP", "RATE_LIMIT_LOGIN_USER", "RATE_LIMIT_IMPORT", "RATE_LIMIT_LISTS"):
            hits, _, window = getattr(self, name).partition("/")
            if not (hits.isdigit() and window.isdigit() and int(hits) > 0 and int(window) > 0):
                raise ConfigError(f"{name} must look like HITS/SECONDS, e.g. 10/60")
        try:
            allowed = parse_allowed(self.FORWARDED_ALLOW_IPS)
        except ValueError as exc:
            raise ConfigError(f"FORWARDED_ALLOW_IPS must list addresses or CIDRs (or *): {exc}") from None
        if self.JWT_SECRET_KEY:  # unset outside production: create_app generates one (dev_secret.py)
            _check_secret("JWT_SECRET_KEY", self.JWT_SECRET_KEY)
        if not self.is_production:
            return self
        if self.FLASK_DEBUG:
            raise ConfigError("production refuses FLASK_DEBUG: the debugger runs arbitrary code")
        if not self.DATABASE_URL:
            raise ConfigError("production needs DATABASE_URL (postgresql://user:pass@host:5432/db)")
        for name in ("JWT_SECRET_KEY", "METRICS_TOKEN"):
            if not getattr(self, name):
                raise ConfigError(f"production needs {name} (generate one: "
                                  "python -c 'import secrets; print(secrets.token_urlsafe(48))')")
            _check_secret(name, getattr(self, name))
        # A range that holds clients makes every one of them a proxy: they name their own address.
        problem = forwarded_allow_problem(allowed)
        if problem:
            raise ConfigError(problem)
        if not parse_hosts(self.TRUSTED_HOSTS):
            raise ConfigError("production needs TRUSTED_HOSTS: the host names clients use (and the load "
                              "balancer's probe), comma-separated; any other Host header is refused")
        return self

    def as_flask_config(self):
        """Return the settings as a dict for `app.config`."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _check_secret(name, secret):
    """Refuse a secret that is a placeholder, a published default, too short or too regular to resist guessing."""
    lowered = secret.strip().lower()
    if lowered in KNOWN_DEFAULT_SECRETS or "not-for-production" in lowered:
        raise ConfigError(f"{name} is a known default value; generate a random one")
    if lowered.startswith("<") or lowered.endswith(">") or "placeholder" in lowered:
        raise ConfigError(f"{name} is still the template's placeholder; generate a random one")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} is {len(secret.encode())} bytes; it needs at least {MIN_SECRET_BYTES}")
    if len(secret.strip().encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} is mostly white space; generate a random one")
    counts = Counter(secret)
    bits = -sum(n * math.log2(n / len(secret)) for n in counts.values())
    if secret in (secret + secret)[1:-1]:  # "abcdefgh" * 4: periodic
        raise ConfigError(f"{name} repeats a shorter pattern; generate a random one")
    if len(counts) < MIN_SECRET_DISTINCT or bits < MIN_SECRET_BITS:
        raise ConfigError(f"{name} is too regular to be random ({len(counts)} different characters, about "
                          f"{bits:.0f} bits); generate one: "
                          "python -c 'import secrets; print(secrets.token_urlsafe(48))'")


def _convert(kind, raw):
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)
    return raw if kind is str else kind(raw)


@cache
def own_metrics_dir():
    """Return a fresh directory for the workers' metrics, made once per process (a gunicorn master re-reads
    its config file on SIGHUP and must keep the same one)."""
    return tempfile.mkdtemp(prefix="printshop-metrics-")


def default_workers():
    """Return gunicorn's worker count when WEB_CONCURRENCY is unset (2 x CPUs + 1, gunicorn's advice)."""
    return 2 * multiprocessing.cpu_count() + 1


def read_env_file(path):
    """Return the KEY=VALUE lines of `path` as a dict ({} when there is no such file)."""
    path = Path(path)
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def environment(environ=None):
    """Return a copy of `environ` (default os.environ), with .env.dev's values under it in development.

    Values already set win; the process environment itself is never changed.
    """
    environ = dict(os.environ if environ is None else environ)
    if environ.get("APP_ENV", "development") == "development":
        environ = {**read_env_file(PROJECT_ROOT / ".env.dev"), **environ}
    return environ


def parse_allowed(text):
    """Return the networks of a comma-separated list of addresses or CIDRs ("*": every peer); ValueError if bad."""
    entries = [entry.strip() for entry in str(text).split(",") if entry.strip()]
    if "*" in entries:
        return [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    # strict, as gunicorn: 10.0.0.1/8 (host bits set) is a mistake, not 10.0.0.0/8.
    return [ipaddress.ip_network(entry, strict=True) for entry in entries]
