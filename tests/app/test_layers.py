"""The folders of apps/api are layers, and the checker (tests/support/layers.py) holds them: imports point
down, Flask's request state stays in the web layer, one class makes threads, one module opens connections.

Each rule is also planted once in a throwaway package, in every form the checker resolves, and must be seen.
"""
from pathlib import Path

import pytest

from tests.support.layers import MAY_IMPORT, PACKAGE, ROOT, layer_of, views_importing_views, violations


def test_every_module_belongs_to_a_layer():
    layers = {layer_of(str(p.relative_to(PACKAGE))) for p in PACKAGE.rglob("*.py")}
    assert layers - set(MAY_IMPORT) - {ROOT} == set()


def test_the_app_keeps_every_rule():
    assert "\n".join(violations()) == ""


def test_views_never_import_views():
    assert views_importing_views() == []


def plant(tmp_path: Path, relative: str, source: str) -> list[str]:
    """Write `source` as apps/api/`relative` of a throwaway package; return what the checker reports."""
    package = tmp_path / "apps" / "api"
    path = package / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return violations(package)


# One upward (or sideways) import per layer, in the import forms the checker must resolve.
UPWARD = [
    ("domain/rule.py", "from ..web.errors import ApiError\n", "domain -> web"),
    ("domain/rule.py", "from apps.api import web\n", "domain -> web"),
    ("domain/rule.py", "from .. import resources\n", "domain -> resources"),
    ("ops/job.py", "import apps.api.web.auth\n", "ops -> web"),
    ("ops/job.py", "from apps.api import domain\n", "ops -> domain"),
    ("cache/store.py", "from ..ops import metrics\n", "cache -> ops"),
    ("db/pool.py", "from ..cache import store\n", "db -> cache"),
    ("db/pool.py", "import importlib\nimportlib.import_module('apps.api.domain.audit')\n", "db -> domain"),
    ("runtime/loop.py", "from apps.api.db import Queries\n", "runtime -> db"),
    ("config.py", "from .runtime import context\n", "config -> runtime"),
    ("web/auth.py", "from ..resources import jobs\n", "web -> resources"),
    ("tools/cli.py", "from apps.api.web import auth\n", "tools -> web"),
    ("domain/rule.py", "from apps.api import create_app\n", "domain -> root"),
    ("resources/jobs.py", "from .. import open_resources\n", "resources -> root"),
]


@pytest.mark.parametrize("relative, source, arrow", UPWARD, ids=[f"{a}:{s.strip()}" for a, s, _ in UPWARD])
def test_an_upward_import_is_reported(tmp_path, relative, source, arrow):
    reported = plant(tmp_path, relative, source)
    assert len(reported) == 1 and f"({arrow})" in reported[0], reported


def test_a_downward_import_is_not_reported(tmp_path):
    assert plant(tmp_path, "web/hooks.py", "from apps.api import db\nfrom ..domain import audit\n") == []


# Flask's request state below the web layer, however it is reached.
REQUEST_STATE = [
    ("ops/logs.py", "from flask import g\n"),
    ("ops/logs.py", "import flask\nflask.g.user_id\n"),
    ("ops/logs.py", "import flask as f\nf.request.method\n"),
    ("db/caller.py", "from flask import globals as fg\nfg.session.get('x')\n"),
    ("cache/app.py", "from flask.globals import request as incoming\n"),
    ("ops/logs.py", "from flask import has_request_context\n"),
]


@pytest.mark.parametrize("relative, source", REQUEST_STATE, ids=[s.strip() for _, s in REQUEST_STATE])
def test_request_state_below_the_web_layer_is_reported(tmp_path, relative, source):
    reported = plant(tmp_path, relative, source)
    assert reported and all("reads no request state" in line for line in reported), reported


def test_flask_in_the_rules_is_reported(tmp_path):
    assert ["domain/rule.py:1 imports flask (domain never sees Flask)"] == plant(
        tmp_path, "domain/rule.py", "import flask\n")


def test_request_state_in_the_web_layer_is_not_reported(tmp_path):
    assert plant(tmp_path, "web/context.py", "import flask\nfrom flask import g\nflask.request.method\n") == []


THREADS = [
    "import threading\nthreading.Thread(target=print).start()\n",
    "from threading import Thread as T\nT(target=print)\n",
    "import threading\nthreading.Timer(1.0, print)\n",
    "from concurrent.futures import ThreadPoolExecutor\nThreadPoolExecutor(2)\n",
    "import threading\nclass Loop(threading.Thread):\n    pass\n",
]


@pytest.mark.parametrize("source", THREADS, ids=[s.splitlines()[-1] for s in THREADS])
def test_a_thread_outside_the_background_class_is_reported(tmp_path, source):
    reported = plant(tmp_path, "ops/heartbeat.py", source)
    assert reported and all("makes a thread" in line for line in reported), reported


def test_the_background_class_may_make_threads(tmp_path):
    assert plant(tmp_path, "runtime/background.py", THREADS[0]) == []


CONNECTIONS = [
    "import psycopg2\npsycopg2.connect('dbname=x')\n",
    "from psycopg2 import connect as open_db\nopen_db('dbname=x')\n",
    "import psycopg2.pool\npsycopg2.pool.SimpleConnectionPool(1, 2, 'dbname=x')\n",
]


@pytest.mark.parametrize("source", CONNECTIONS, ids=[s.splitlines()[-1] for s in CONNECTIONS])
def test_a_connection_opened_outside_the_connect_module_is_reported(tmp_path, source):
    reported = plant(tmp_path, "ops/overdue.py", source)
    assert reported and all("opens a connection" in line for line in reported), reported


def test_the_connect_module_may_open_connections(tmp_path):
    assert plant(tmp_path, "db/connect.py", CONNECTIONS[0]) == []


def test_a_view_importing_a_view_is_reported(tmp_path):
    plant(tmp_path, "resources/customers.py", "from flask import Blueprint\nbp = Blueprint('customers', __name__)\n")
    plant(tmp_path, "resources/step_schema.py", "STEP = 1\n")
    plant(tmp_path, "resources/jobs.py", "from .customers import bp\nfrom .step_schema import STEP\n")
    assert views_importing_views(tmp_path / "apps" / "api") == [
        "resources/jobs.py:1 imports the blueprint apps.api.resources.customers.bp"]
