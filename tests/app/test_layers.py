"""The folders of apps/api are layers: an import may only point down the table below (ast, no import-linter)."""
import ast
from pathlib import Path

import pytest

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
# The application's root (the factory and the lazy command group) wires every layer together.
ROOT_MODULES = {"__init__", "commands"}
# Rules never see Flask, and the database and the cache never read a request or its `g`: they get what
# they need as parameters (the app they belong to comes from flask's current_app, as in every extension).
NO_FLASK = {"domain", "config"}
NO_REQUEST = {"db", "cache", "runtime"}


def layer_of(module):
    """Return the layer of a module path under apps/api ("web/auth.py" -> "web", "config.py" -> "config")."""
    first = module.split("/")[0].removesuffix(".py")
    # Building blocks beside the config, importing nothing of the app: the edge's trust and private files.
    return "config" if first in ("dev_secret", "trust", "private_files") else first


def imports_of(path, package_dir=PACKAGE):
    """Yield (absolute module, line) for every import of `path`, relative imports resolved."""
    package = ["apps", "api", *path.relative_to(package_dir).parent.parts]
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:  # from . import a, b: each name may be a module of its own
                for alias in node.names:
                    yield f"{module}.{alias.name}", node.lineno
            else:
                yield module, node.lineno


def names_of(path, line):
    """Return the names imported by the `from` statement at `line` of `path`."""
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.lineno == line:
            return {alias.name for alias in node.names}
    return set()


def modules(package=PACKAGE):
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def wrong_arrows(package=PACKAGE):
    """Return every import that points up or sideways across layers, as readable lines."""
    wrong = []
    for path in modules(package):
        relative = str(path.relative_to(package))
        layer = layer_of(relative)
        if relative.removesuffix(".py") in ROOT_MODULES:
            continue
        for module, line in imports_of(path, package):
            if layer in NO_FLASK and (module == "flask" or module.startswith("flask.")):
                wrong.append(f"{relative}:{line} imports flask ({layer} sees no request)")
            if layer in NO_REQUEST and module == "flask" and {"g", "request"} & names_of(path, line):
                wrong.append(f"{relative}:{line} reads the request or g ({layer} takes parameters)")
            if not module.startswith("apps.api."):
                continue
            target = layer_of(module.removeprefix("apps.api.").replace(".", "/"))
            if target != layer and target not in MAY_IMPORT[layer]:
                wrong.append(f"{relative}:{line} imports {module} ({layer} -> {target})")
            if layer == "resources" and target == "resources" and relative != "resources/__init__.py":
                imported = module.removeprefix("apps.api.resources.")
                if not imported.endswith("_schema"):
                    wrong.append(f"{relative}:{line} imports the blueprint {module} (views never import views)")
    return wrong


def test_every_module_belongs_to_a_layer():
    unknown = {layer_of(str(p.relative_to(PACKAGE))) for p in modules()} - set(MAY_IMPORT) - ROOT_MODULES
    assert not unknown, f"folders with no place in MAY_IMPORT: {sorted(unknown)}"


def test_imports_point_down_the_layers():
    assert "\n".join(wrong_arrows()) == ""


@pytest.mark.parametrize("upward", ['from ..web.errors import ApiError', 'from flask import g'])
def test_the_check_sees_a_wrong_arrow(tmp_path, upward):
    """The check itself can fail: a rule that imports the web layer or Flask is reported."""
    package = tmp_path / "apps" / "api"
    (package / "domain").mkdir(parents=True)
    (package / "domain" / "rule.py").write_text(upward + "\n")
    assert len(wrong_arrows(package)) == 1
