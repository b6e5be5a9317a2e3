"""Split a migration file into statements, for files that run outside a transaction.

PostgreSQL runs a multi-statement query string as one implicit transaction, where `CREATE INDEX
CONCURRENTLY` is refused; so a `-- no-transaction` file is sent one statement at a time. Semicolons inside
quotes, quoted identifiers, comments and dollar-quoted bodies do not end a statement.
"""
import re

DOLLAR_TAG = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*\$|\$\$")


def split_statements(text: str) -> list[str]:
    """Return the statements of `text` (without their final semicolon), skipping empty ones."""
    statements: list[str] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        char = text[i]
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif char in ("'", '"'):
            i = _after_quoted(text, i, char)
        elif char == "$" and (tag := DOLLAR_TAG.match(text, i)):
            end = text.find(tag.group(), tag.end())
            i = n if end < 0 else end + len(tag.group())
        elif char == ";":
            statements.append(text[start:i])
            start = i = i + 1
        else:
            i += 1
    statements.append(text[start:])
    return [statement.strip() for statement in statements if _has_code(statement)]


def _after_quoted(text: str, i: int, quote: str) -> int:
    """Return the index just past the quoted string or identifier opening at `i` (doubled quotes stay in)."""
    i += 1
    while i < len(text):
        if text[i] == quote:
            if text.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _has_code(statement: str) -> bool:
    """Tell whether `statement` holds more than whitespace and comments."""
    without_comments = re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.S)
    return bool(without_comments.strip())
