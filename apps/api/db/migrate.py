"""Forward-only plain-SQL migrations: `migrations/NNNN_name.sql`, each in one transaction."""
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..config import PROJECT_ROOT
from .connect import connect

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every process that migrates.
ADVISORY_LOCK_KEY = 7_402_117_001


class MigrationError(Exception):
    """The database and the migration files disagree."""


@dataclass
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self):
        return self.path.read_text()

    @property
    def checksum(self):
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory=MIGRATIONS_DIR):
    """Return the migration files of `directory` in version order."""
    found = []
    for path in sorted(Path(directory).glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_what_it_does.sql")
        found.append(Migration(match.group(1), match.group(2), path))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise MigrationError("two migration files share a version number")
    return found


def _ensure_table(cur):
    cur.execute("""
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    text PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )""")


def _applied(cur):
    cur.execute("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
    return {row[0]: row for row in cur.fetchall()}


def _check_unchanged(migrations, applied):
    by_version = {m.version: m for m in migrations}
    for version, (_, name, checksum, _) in applied.items():
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(f"{version}_{name} is applied but its file is gone")
        if migration.checksum != checksum:
            raise MigrationError(
                f"{migration.path.name} was edited after it was applied; "
                "write a new migration instead of changing an applied one")


def upgrade(database_url, directory=MIGRATIONS_DIR, log=print):
    """Apply every pending migration in order; return the versions applied."""
    migrations = discover(directory)
    conn = connect(database_url, "migrate")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            # Session lock: a second process waits here, then finds nothing pending.
            cur.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
            try:
                _ensure_table(cur)
                applied = _applied(cur)
                _check_unchanged(migrations, applied)
                done = []
                for migration in migrations:
                    if migration.version in applied:
                        continue
                    log(f"applying {migration.path.name}")
                    cur.execute("BEGIN")
                    try:
                        cur.execute(migration.sql)
                        cur.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum))
                        cur.execute("COMMIT")
                    except Exception:
                        cur.execute("ROLLBACK")
                        raise
                    done.append(migration.version)
                return done
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    finally:
        conn.close()


def status(database_url, directory=MIGRATIONS_DIR):
    """Return (applied, pending): applied rows and pending Migration objects."""
    migrations = discover(directory)
    conn = connect(database_url, "migrate")
    try:
        with conn, conn.cursor() as cur:
            _ensure_table(cur)
            applied = _applied(cur)
    finally:
        conn.close()
    pending = [m for m in migrations if m.version not in applied]
    return list(applied.values()), pending
