"""SQL lives in apps/api/sql/*.sql (and migrations/): no module runs a statement written in Python, whole or
spliced (`cur.execute("SELECT ...")`, an f-string, `str.replace` on a named statement)."""
import ast
from pathlib import Path

from tests.support.source import syntax_tree

PACKAGE = Path(__file__).resolve().parents[2] / "apps" / "api"
RUNNERS = {"execute", "executemany", "mogrify", "copy_expert"}


def inline_sql(package: Path = PACKAGE) -> list[str]:
    """Return "path:line" for every statement runner called with SQL text written in Python."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(syntax_tree(path)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
                continue
            first = node.args[0]
            written = isinstance(first, ast.JoinedStr) or (isinstance(first, ast.Constant)
                                                          and isinstance(first.value, str))
            spliced = (isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute)
                       and first.func.attr in ("replace", "format") and not isinstance(first.func.value, ast.Call))
            if node.func.attr in RUNNERS and (written or spliced):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    return found


def test_no_statement_is_written_in_python():
    assert inline_sql() == []


def test_the_check_sees_inline_and_spliced_sql(tmp_path):
    (tmp_path / "rule.py").write_text(
        "def run(cur, queries, table):\n"
        "    cur.execute('SELECT 1')\n"
        "    cur.execute(f'SELECT * FROM {table}')\n"
        "    cur.execute(queries.list_jobs.replace('{match}', queries.match_jobs))\n"
        "    cur.execute(queries.ping)\n")
    assert inline_sql(tmp_path) == ["rule.py:2", "rule.py:3", "rule.py:4"]
