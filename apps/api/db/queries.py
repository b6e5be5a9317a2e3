"""Named SQL: the statements of one `.sql` file of apps/api/sql/, each under a `-- name: verb-noun` header."""
import re
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_NAME_HEADER = re.compile(r"^--\s*name:\s*([a-z0-9_\-]+)\s*$", re.MULTILINE)


class Queries:
    """Named SQL statements of one `.sql` file, each under a `-- name: verb-noun` header."""

    def __init__(self, filename: str) -> None:
        text = (SQL_DIR / filename).read_text()
        parts = _NAME_HEADER.split(text)
        self._statements: dict[str, str] = {}
        for name, body in zip(parts[1::2], parts[2::2]):
            lines = [line for line in body.strip().splitlines() if not line.lstrip().startswith("--")]
            self._statements[name.replace("-", "_")] = "\n".join(lines).strip().rstrip(";")

    def __getattr__(self, name: str) -> str:
        try:
            return self._statements[name]
        except KeyError:
            raise AttributeError(f"no statement named {name!r}") from None
