"""The project's own source as syntax trees, parsed once per run (several tests read every module)."""
import ast
from functools import cache


def syntax_tree(path):
    """Return the parsed module at `path` (parsed again only when the file changed); do not modify it."""
    status = path.stat()
    return _parse(path, status.st_mtime_ns, status.st_size)


@cache
def _parse(path, mtime_ns, size):
    return ast.parse(path.read_text())
