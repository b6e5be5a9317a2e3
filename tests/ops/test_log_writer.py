"""The log writer thread: request threads queue, one thread writes whole JSON lines (apps/api/ops/log_writer.py)."""
import json
import os
import threading

from apps.api.ops.log_writer import BATCH_BYTES, LineWriter


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def test_lines_from_many_threads_arrive_whole_and_in_writes_of_at_most_a_pipe_buffer(monkeypatch):
    read_end, write_end = os.pipe()
    writes = []
    real_write = os.write
    producers_done = threading.Event()

    def counting_write(fd, data):
        if fd == write_end:
            producers_done.wait(10)  # a slow sink: lines pile up meanwhile, as under load
            writes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", counting_write)
    writer = LineWriter(write_end)
    reader = threading.Thread(target=lambda: out.append(_read_all(read_end)))
    out = []
    reader.start()

    def log_requests(thread_number):
        for number in range(250):
            fields = {"event": "request", "status": 200, "path": f"/t{thread_number}/{number}", "pad": "x" * 300}
            writer.put((1.0, "info", "request", "apps.api.request", fields, f"id-{thread_number}-{number}"))

    threads = [threading.Thread(target=log_requests, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    producers_done.set()
    writer.put('{"level": "warning", "message": "a ready line"}')
    writer.flush()
    os.close(write_end)
    reader.join(10)
    lines = out[0].decode().splitlines()
    records = [json.loads(line) for line in lines]  # every line whole
    requests = [r for r in records if r.get("event") == "request"]
    assert len(requests) == 1000 and len({r["request_id"] for r in requests}) == 1000
    assert requests[0]["ts"] == "1970-01-01T00:00:01.000+00:00" and requests[0]["pid"] == os.getpid()
    assert records[-1] == {"level": "warning", "message": "a ready line"}
    # Batched: fewer writes than lines, none over PIPE_BUF (lines of other workers never land inside one).
    assert len(writes) < len(lines) and max(writes) <= BATCH_BYTES
    os.close(read_end)


def test_flush_without_lines_returns_at_once():
    read_end, write_end = os.pipe()
    LineWriter(write_end).flush(timeout=0.1)  # no thread started: nothing to wait for
    os.close(read_end)
    os.close(write_end)
