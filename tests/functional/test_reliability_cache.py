"""Per-user answers under concurrency through a real gunicorn: nobody ever gets another user's data.

Sixteen users of all four roles, user k with k assigned steps and 10k notifications, so every answer names
its owner: the `tasks` of k's dashboard always add up to k, k's notifications total 10k plus the news of
its own job changing status (fewer than 10), k's /me says k.
Readers interleave all of them over three workers (the dashboard cached per user) while managers start and
complete steps through the API (each write drops cached answers in every worker). Every answer is checked
as it comes; after the writes settle (the contract's 1 s), every user's tasks equal the database's.
"""
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.auth import AuthActions
from tests.support.factories import add_customer, add_job
from tests.support.gunicorn import GunicornServer

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]

ROLES = ("viewer", "operator", "manager", "admin")
USERS = [f"iso_{ROLES[(k - 1) % 4]}_{k}" for k in range(1, 17)]
READERS, WRITERS = 12, 2


def _arrange(db, app, database_url):
    """Create the users with k steps and 10k notifications each; return (tokens, owner k by name, step ids)."""
    with db.cursor() as cur:
        for name in USERS:
            cur.execute("INSERT INTO users (username, role, password_hash) SELECT %s, %s, password_hash "
                        "FROM users WHERE username = 'admin'", (name, name.split("_")[1]))
    auth = AuthActions(app, database_url)
    customer, steps = add_customer(db), []
    for k, name in enumerate(USERS, start=1):
        job = add_job(db, customer, "active", steps=[(auth.user_id(name), "pending")] * k, title=f"Job of {name}")
        with db.cursor() as cur:
            cur.execute("INSERT INTO notifications (user_id, kind, message) SELECT %s, 'system', 'n' "
                        "FROM generate_series(1, %s)", (auth.user_id(name), 10 * k))
            cur.execute("SELECT id FROM job_steps WHERE job_id = %s ORDER BY step_order", (job,))
            steps += [row[0] for row in cur.fetchall()[: (k + 1) // 2]]  # about half of them change
    return {name: auth.headers(name) for name in USERS}, {name: k for k, name in enumerate(USERS, start=1)}, \
        steps, auth.headers("manager")


def _tasks_in_database(db):
    with db.cursor() as cur:
        cur.execute("SELECT u.username, s.status, count(*) FROM job_steps s JOIN users u ON u.id = s.assigned_to "
                    "WHERE u.username LIKE 'iso\\_%' GROUP BY 1, 2")
        counts = {name: {"pending": 0, "in_progress": 0, "paused": 0, "completed": 0, "skipped": 0} for name in USERS}
        for name, status, count in cur.fetchall():
            counts[name][status] = count
    return counts


def test_no_answer_ever_carries_another_users_data(database_url, db, app):
    tokens, owner, steps, manager = _arrange(db, app, database_url)
    wrong, errors, answered, hits = [], [], [], []
    writing, lock = threading.Event(), threading.Lock()
    writing.set()

    with GunicornServer(database_url, workers=3, threads=4) as server:
        def read(seed):
            rng = random.Random(seed)
            while writing.is_set():
                name = rng.choice(USERS)
                kind = rng.choice(("stats", "stats", "notifications", "me"))
                path = {"stats": "/api/dashboard/stats", "notifications": "/api/notifications?per_page=1",
                        "me": "/api/auth/me"}[kind]
                status, headers, body = server.request("GET", path, headers=tokens[name])
                with lock:
                    answered.append(kind)
                    if status != 200:
                        errors.append((name, path, status, body))
                        continue
                    hits.append(headers.get("X-Cache") == "HIT")
                    if kind == "stats":
                        tasks = body["tasks"]
                        if sum(tasks.values()) != owner[name] or min(tasks.values()) < 0:
                            wrong.append((name, tasks))
                    elif kind == "notifications" and body["pagination"]["total"] // 10 != owner[name]:
                        wrong.append((name, body["pagination"]))
                    elif kind == "me" and body["username"] != name:
                        wrong.append((name, body["username"]))

        def write(my_steps):
            for step in my_steps:
                for status in ("in_progress", "completed"):
                    code, _, body = server.request("PATCH", f"/api/steps/{step}", body={"status": status},
                                                   headers=manager)
                    if code != 200:
                        with lock:
                            errors.append(("manager", step, code, body))

        random.Random(7).shuffle(steps)
        readers = [threading.Thread(target=read, args=(n,)) for n in range(READERS)]
        for thread in readers:
            thread.start()
        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(write, [steps[n::WRITERS] for n in range(WRITERS)]))
        writing.clear()
        for thread in readers:
            thread.join(30)

        time.sleep(1.1)  # the contract's bound for every worker to drop what the writes changed
        expected = _tasks_in_database(db)
        final = {}
        with ThreadPoolExecutor(8) as pool:
            for name, (status, _, body) in zip(USERS * 3, pool.map(
                    lambda name: server.request("GET", "/api/dashboard/stats", headers=tokens[name]), USERS * 3)):
                assert status == 200, body
                final.setdefault(name, []).append(body["tasks"])

    print(f"\n[measured] cache isolation: {len(answered)} answers to {len(USERS)} users, {sum(hits)} cache hits, "
          f"{len(steps) * 2} step writes", flush=True)
    assert errors == [] and wrong == []
    assert len(answered) > 300 and sum(hits) > 0, "the cache really served"
    assert all(answer == expected[name] for name, answers in final.items() for answer in answers), (final, expected)
    assert any(counts["completed"] for counts in expected.values()), "the writes really happened"
