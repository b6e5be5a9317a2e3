"""The benchmark's outputs: a markdown table and a PNG chart of the ratios."""
import re

from bench.harness import ms


def _cell(values, unit):
    median, low, high = values
    if unit == "req/s":
        return f"{median:,.0f} ({low:,.0f}-{high:,.0f}) req/s"
    if unit == "us":
        return f"{median:,.0f} ({low:,.0f}-{high:,.0f}) µs"
    if unit == "queries":
        return f"{median:.1f} ({low:.1f}-{high:.1f})"
    return f"{ms(median)} ({ms(low)}-{ms(high)}) ms"


def markdown(rows, facts, config):
    """Return the results as a markdown page."""
    lines = [
        f"# Benchmark {facts['when']}",
        "",
        f"- machine: {facts['machine']}",
        f"- command: `{facts['command']}`; took {facts['took']}",
        f"- data: {facts['seed']}; customer search over {config['search_customers']:,} customers",
        f"- in-process: median (min-max) of {config['repeat']} timed runs after a warm-up (naive twins of "
        f"the slow kind: fewer runs); HTTP: wrk, {config['wrk_seconds']} s x {config['wrk_repeats']} runs each, "
        "16 connections, 2 wrk threads, on the same 2 cores as the server",
        f"- {facts['o1']}",
        "",
        "| pair | what | naive | optimised | ratio | goal | note |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        unit = row.get("unit", "ms")
        lines.append(f"| {row['pair']} | {row['what']} | {_cell(row['naive'], unit)} | "
                     f"{_cell(row['optimised'], unit)} | {row['ratio']} | {row.get('goal', '')} | "
                     f"{row.get('note', '')} |")
    if facts.get("lists"):
        lines += ["", "## Lists: database time (Server-Timing `db`, ms; median), old plan vs new", "",
                  "Old: exact count(*) + OFFSET, as before issue 15; new: the endpoint as it runs now "
                  "(cursor, bounded count, 422 for search terms no index can serve). Page size 20.", "",
                  facts["lists"]]
    if facts.get("page_lists"):
        lines += ["", "## Every list the page sends (issue 25): database time (Server-Timing `db`, ms; median)", "",
                  "bench/page_lists.py: served in-process, page size 20; deep: the page after 10,000 rows, "
                  "reached by next_cursor. The CSV export streams from one gunicorn worker.", "",
                  facts["page_lists"]]
    if facts.get("audit_lists"):
        lines += ["", "## Audit and notifications lists at two sizes of history (Server-Timing `db`, ms; median)",
                  "", "bench/audit_lists.py: the audit log partitioned by month over 13 months; page size 20.", "",
                  facts["audit_lists"]]
    if facts.get("step_times"):
        lines += ["", "## Step times report and work queues (issue 26; bench/step_times.py)", "",
                  facts["step_times"]]
    if facts.get("page"):
        lines += ["", "## Web page: load to the first numbers, and an idle open dashboard", "", facts["page"]]
    if facts.get("boards"):
        lines += ["", "## 50 open wall boards while the API is loaded (bench/boards.py)", "", facts["boards"]]
    lines.append("")
    return "\n".join(lines)


def _ratio_value(text):
    match = re.match(r"([\d.]+)(x|%)", text or "")
    if not match:
        return None
    value = float(match.group(1))
    return value / 100 if match.group(2) == "%" else value


def chart(rows, path):
    """Draw each pair's ratio (naive / optimised, log scale) as a horizontal bar chart, readable whole."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labeled = [(row["pair"], _ratio_value(row["ratio"])) for row in rows]
    labeled = [(label, value) for label, value in labeled if value]
    names = [label for label, _ in labeled][::-1]
    values = [value for _, value in labeled][::-1]
    fig, axis = plt.subplots(figsize=(12, 0.38 * len(labeled) + 2.2))
    # Bars grow from 1 (no difference): right when the optimised twin wins, left when it loses.
    axis.barh(names, [abs(v - 1) for v in values], left=[min(v, 1) for v in values],
              color=["#2b8a3e" if v >= 1 else "#c92a2a" for v in values])
    axis.set_xscale("log")
    # Room on both sides for the value labels: the largest bar ends well inside the axes.
    axis.set_xlim(min(values + [1]) / 3, max(values + [1]) * 8)
    axis.axvline(1, color="black", linewidth=0.8)
    axis.set_xlabel("naive / optimised (log scale): > 1 the optimised twin is faster or cheaper, < 1 slower")
    for position, value in enumerate(values):
        right = value >= 1
        axis.text(value * (1.08 if right else 0.93), position, f"{value:,.2f}x", va="center",
                  ha="left" if right else "right", fontsize=8)
    axis.tick_params(axis="y", labelsize=8)
    axis.set_title("Each optimisation against its naive twin, side by side in one run", loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
