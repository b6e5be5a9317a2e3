"""The benchmark's harness runs end to end on a tiny data set, so it cannot rot (no timing is asserted)."""
import pytest

from bench import audit_lists, list_pairs, run

pytestmark = pytest.mark.slow


def test_bench_runs_end_to_end_and_writes_table_and_chart(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)

    rows = run.main(["--quick", "--jobs", "400", "--customers", "300", "--repeat", "1", "--seconds", "1",
                     "--out", str(tmp_path)])
    pairs = {row["pair"] for row in rows}
    for expected in ("connect per request vs pool (in-process)", "4 queries vs 1 CTE", "month chart",
                     "index: jobs by status", "customer search: btree vs trigram",
                     "cache hit vs bare framework, as make run serves it (server CPU)",
                     "connect per request vs pool (HTTP)", "cold burst: queries per key per worker",
                     "uncached vs cached stats, gthread"):
        assert expected in pairs
    for row in rows:
        assert all(value > 0 for value in row["naive"] + row["optimised"]), row
    [markdown] = tmp_path.glob("*.md")
    pairs_table, lists_table = markdown.read_text().split("## Lists")
    assert pairs_table.count("\n| ") == len(rows) + 1  # header + one line per pair
    for label, _, _ in list_pairs.CASES:
        assert f"\n| {label} |" in lists_table
    assert "422" in lists_table  # one-character searches are refused, not scanned
    for label, _, _ in audit_lists.CASES:
        assert f"\n| {label} |" in lists_table
    assert "\n| jobs q=wrap |" in lists_table and "CSV export of every job" in lists_table  # bench/page_lists.py
    page_section = markdown.read_text().split("## Web page")[1]
    assert "to the first numbers" in page_section and "idle open dashboard: requests per minute" in page_section
    [png] = tmp_path.glob("*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
