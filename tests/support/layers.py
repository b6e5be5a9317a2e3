"""The layer rules of apps/api as a checker over its syntax trees (ast, no import-linter).

`violations(package)` returns one readable line per broken rule:
- an import that points up or sideways across the layers (every form: `import apps.api.web`, `from apps.api
  import web`, `from .. import web`, `from ..web.errors import X`, `importlib.import_module("apps.api.web")`);
- Flask where a layer never sees it, or Flask's request state (`g`, `request`, `session`,
  `has_request_context`) below the web layer, however reached (`from flask import g`, `import flask` then
  `flask.g`, aliases, `flask.globals`);
- a thread made anywhere but the background class (runtime/background.py);
- a connection opened anywhere but the connect module (db/connect.py).
"""
import ast
from pathlib import Path

from tests.support.source import syntax_tree

PACKAGE = Path(__file__).resolve().parents[2] / "apps" / "api"

# Which layers each layer may import (besides itself). Read top to bottom: views over HTTP plumbing over
# rules over the process's operations, the cache, the database, and the building blocks under them all.
MAY_IMPORT = {
    "resources": {"web", "domain", "ops", "cache", "db", "runtime", "config"},
    "web": {"domain", "ops", "cache", "db", "runtime", "config"},
    "domain": {"db", "runtime", "config"},
    "ops": {"cache", "db", "runtime", "config"},
    "cache": {"db", "runtime", "config"},
    "db": {"runtime", "config"},
    "runtime": {"config"},
    "config": set(),
    "tools": {"domain", "ops", "cache", "db", "runtime", "config"},
}
# The application's root (the factory and the lazy command group) wires every layer together; only
# the root itself imports it ("root" is then the layer of `apps.api` and its own modules).
ROOT_MODULES = {"__init__", "commands"}
ROOT = "root"
# Rules and the building blocks never see Flask at all; below the web layer nothing reads the request:
# the request context (runtime/context.py) carries what they need.
NO_FLASK = {"domain", "config", "runtime"}
NO_REQUEST = {"domain", "ops", "cache", "db", "runtime", "config"}
REQUEST_STATE = {"g", "request", "session", "has_request_context"}
FLASK_MODULES = {"flask", "flask.globals"}
# The one module that makes threads, and the one that opens connections.
THREAD_MAKERS = {"threading.Thread", "threading.Timer", "_thread.start_new_thread", "_thread.start_new",
                 "concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor",
                 "multiprocessing.pool.ThreadPool"}
BACKGROUND_MODULE = "runtime/background.py"
CONNECTION_OPENERS = {"psycopg2.connect", "psycopg2._connect", "psycopg2.extensions.connection",
                      "psycopg2.extras.LogicalReplicationConnection", "psycopg2.pool.SimpleConnectionPool",
                      "psycopg2.pool.ThreadedConnectionPool"}
CONNECT_MODULE = "db/connect.py"
# The pool's book of connections: psycopg2's pool object, fed only connections that connect.py opened.
CONNECTION_OPENER_EXCEPTIONS = {("db/registry.py", "psycopg2.pool.ThreadedConnectionPool")}


def layer_of(relative):
    """Return the layer of a path under apps/api ("web/auth.py" -> "web", "config.py" -> "config")."""
    first = relative.split("/")[0].removesuffix(".py")
    if first in ROOT_MODULES or first == "":
        return ROOT
    # Building blocks beside the config, importing nothing of the app: the edge's trust and private files.
    return "config" if first in ("dev_secret", "trust", "private_files") else first


def _module_of(relative):
    """Return the dotted module of a path under apps/api ("web/auth.py" -> "apps.api.web.auth")."""
    parts = relative.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["apps", "api", *parts])


def _layer_of_module(module):
    """Return the layer of a dotted module of apps.api ("apps.api.web.errors" -> "web"), else None."""
    if module == "apps.api":
        return ROOT
    if not module.startswith("apps.api."):
        return None
    layer = layer_of(module.removeprefix("apps.api.").split(".")[0])
    return layer if layer in MAY_IMPORT else ROOT  # `from apps.api import create_app`: the root's own names


def _resolve_from(node, package):
    """Return the absolute module of a `from` import (relative levels resolved against `package`)."""
    if not node.level:
        return node.module
    base = package.split(".")[:len(package.split(".")) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


class _Reader(ast.NodeVisitor):
    """Collect the imports (module, line) of one module and the names it binds to modules and objects."""

    def __init__(self, package):
        self.package = package
        self.imports = []  # (dotted module or object, line)
        self.bound = {}  # local name -> dotted name it stands for

    def visit_Import(self, node):
        for alias in node.names:
            self.imports.append((alias.name, node.lineno))
            if alias.asname:
                self.bound[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.bound[top] = top
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = _resolve_from(node, self.package)
        for alias in node.names:
            full = f"{module}.{alias.name}"
            self.imports.append((full, node.lineno))  # `from apps.api import web`: the web layer
            self.bound[alias.asname or alias.name] = full
        self.generic_visit(node)

    def visit_Call(self, node):
        name = dotted(node.func, self.bound)
        if name in ("importlib.import_module", "__import__") and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            self.imports.append((node.args[0].value, node.lineno))
        self.generic_visit(node)


def dotted(node, bound):
    """Return the dotted name an expression stands for (`flask.g` after `import flask`), or None."""
    if isinstance(node, ast.Name):
        return bound.get(node.id, node.id if node.id == "__import__" else None)
    if isinstance(node, ast.Attribute):
        base = dotted(node.value, bound)
        return f"{base}.{node.attr}" if base else None
    return None


def _used_names(tree, bound):
    """Yield (dotted name, line, called) for every name and attribute chain of `tree` that stands for an
    import; `called` when it is the function of a call (a type in an annotation makes nothing)."""
    # A call makes a thread or a connection, and so does a subclass of what makes them.
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    called |= {id(base) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for base in node.bases}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = dotted(node, bound)
            if name:
                yield name, node.lineno, id(node) in called


def _is_request_state(name):
    module, _, attr = name.rpartition(".")
    return module in FLASK_MODULES and attr in REQUEST_STATE


def violations(package=PACKAGE):
    """Return one readable line for each broken layer rule of the modules under `package`."""
    found = []
    for path in sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts):
        relative = str(path.relative_to(package))
        layer = layer_of(relative)
        reader = _Reader(_module_of(relative).rsplit(".", 1)[0] if not relative.endswith("__init__.py")
                         else _module_of(relative))
        tree = syntax_tree(path)
        reader.visit(tree)
        for name, line in reader.imports:
            found += _import_violations(relative, layer, name, line)
        found += _use_violations(relative, layer, tree, reader.bound)
    return sorted(set(found))


def _import_violations(relative, layer, name, line):
    wrong = []
    top = name.split(".")[0]
    if layer in NO_FLASK and top == "flask":
        wrong.append(f"{relative}:{line} imports {name} ({layer} never sees Flask)")
    elif layer in NO_REQUEST and _is_request_state(name):
        wrong.append(f"{relative}:{line} imports {name} ({layer} reads no request state)")
    target = _layer_of_module(name)
    if target is None or layer == ROOT or target == layer:
        return wrong
    if target not in MAY_IMPORT.get(layer, set()):
        wrong.append(f"{relative}:{line} imports {name} ({layer} -> {target})")
    return wrong


def _use_violations(relative, layer, tree, bound):
    wrong = []
    for name, line, called in _used_names(tree, bound):
        if layer in NO_REQUEST and _is_request_state(name):
            wrong.append(f"{relative}:{line} reads {name} ({layer} reads no request state)")
        if not called:
            continue
        if name in THREAD_MAKERS and relative != BACKGROUND_MODULE:
            wrong.append(f"{relative}:{line} makes a thread with {name} (only {BACKGROUND_MODULE} does)")
        if (name in CONNECTION_OPENERS and relative != CONNECT_MODULE
                and (relative, name) not in CONNECTION_OPENER_EXCEPTIONS):
            wrong.append(f"{relative}:{line} opens a connection with {name} (only {CONNECT_MODULE} does)")
    return wrong


def _defines_blueprint(path):
    """Tell whether the module at `path` makes a Blueprint (a view module; a helper module such as a schema
    module shared by two views does not)."""
    if not path.exists():
        return False
    return any(isinstance(node, ast.Call) and (getattr(node.func, "id", None) == "Blueprint"
                                               or getattr(node.func, "attr", None) == "Blueprint")
               for node in ast.walk(syntax_tree(path)))


def views_importing_views(package=PACKAGE):
    """Return the blueprints that import another blueprint (views never import views; helpers are shared)."""
    wrong = []
    for path in sorted((package / "resources").glob("*.py")):
        relative = str(path.relative_to(package))
        if relative == "resources/__init__.py":
            continue
        reader = _Reader("apps.api.resources")
        reader.visit(syntax_tree(path))
        for name, line in reader.imports:
            if name.startswith("apps.api.resources."):
                imported = name.removeprefix("apps.api.resources.").split(".")[0]
                if _defines_blueprint(package / "resources" / f"{imported}.py"):
                    wrong.append(f"{relative}:{line} imports the blueprint {name}")
    return wrong
