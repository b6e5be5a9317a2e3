"""Profile a cached /api/dashboard/stats hit with py-spy: one make run worker sampled (the thread holding
the GIL) under wrk.

    .venv/bin/python -m bench.profile_hot_path --out bench/results/profile-after   # its own embedded database

Writes <out>.txt (py-spy's collapsed stacks) and <out>.md (the functions with the largest share of the
samples, inclusive and self). py-spy is a bench-only dependency (bench/requirements.txt); it needs
ptrace rights over the worker (root, or kernel.yama.ptrace_scope=0).
"""
import argparse
import collections
import secrets
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from bench.harness import database_server, say, seeded_database, wrk
from bench.hot_path import make_run, viewer_token

ROUTE = "/api/dashboard/stats"


def record(pid, seconds, out_txt, rate=200):
    """Sample process `pid` with py-spy for `seconds`; write its collapsed stacks to `out_txt`."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    subprocess.run([py_spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
                    "--format", "raw", "--gil", "--nonblocking", "--output", str(out_txt)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _function(frame):
    # py-spy frames read "function (file.py:line)": one entry per function, whatever the line.
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0]})" if where else name


def summary(collapsed_text, top=30):
    """Return a markdown table of the functions with the most samples, inclusive and self."""
    inclusive, own = collections.Counter(), collections.Counter()
    total = 0
    for line in collapsed_text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        total += count
        frames = [_function(frame) for frame in stack.split(";") if not frame.startswith("process ")
                  and not frame.startswith("thread ")]
        for name in set(frames):
            inclusive[name] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"{total} samples (py-spy --gil: the thread holding the GIL, i.e. Python CPU, of one worker)", "",
             "| function | inclusive | self |", "|---|---:|---:|"]
    for name, count in inclusive.most_common(top):
        lines.append(f"| `{name}` | {100 * count / total:.1f} % | {100 * own[name] / total:.1f} % |")
    lines += ["", "| function (by self time) | self |", "|---|---:|"]
    for name, count in own.most_common(top):
        lines.append(f"| `{name}` | {100 * count / total:.1f} % |")
    return "\n".join(lines) + "\n"


def profile(database_url, out, seconds=10):
    """Profile one worker of make run's server under wrk; write <out>.txt and <out>.md."""
    secret = secrets.token_urlsafe(48)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with make_run(database_url, secret, out.with_suffix(".log")) as server:
        headers = viewer_token(server)
        server.request("GET", ROUTE, headers=headers)
        load = threading.Thread(target=wrk, args=(server.base_url + ROUTE,),
                                kwargs={"seconds": seconds + 3, "connections": 16, "headers": headers})
        load.start()
        record(server.worker_pids()[0], seconds, out.with_suffix(".txt"))
        load.join()
    out.with_suffix(".log").unlink()
    text = summary(out.with_suffix(".txt").read_text())
    out.with_suffix(".md").write_text(f"# py-spy profile of a cached {ROUTE} hit (make run, one worker)\n\n{text}")
    say(f"wrote {out}.txt and {out}.md")
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="path without suffix")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with database_server() as server_url:
        url, _ = seeded_database(server_url, "bench_profile", 10_000)
        print(profile(url, args.out, args.seconds))


if __name__ == "__main__":
    main()
