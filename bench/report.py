"""The benchmark's outputs: a markdown table and a PNG chart of the ratios."""
import re

from harness import ms


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
    lines.append("")
    return "\n".join(lines)


def _ratio_value(text):
    match = re.match(r"([\d.]+)(x|%)", text or "")
    if not match:
        return None
    value = float(match.group(1))
    return value / 100 if match.group(2) == "%" else value


def chart(rows, path):
    """Draw each pair's speed-up (naive / optimised, log scale) as a horizontal bar chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labeled = [(row["pair"], _ratio_value(row["ratio"])) for row in rows]
    labeled = [(label, value) for label, value in labeled if value]
    fig, axis = plt.subplots(figsize=(10, 0.4 * len(labeled) + 1.5))
    names = [label for label, _ in labeled][::-1]
    values = [value for _, value in labeled][::-1]
    bars = axis.barh(names, values, color=["#2b8a3e" if v >= 1 else "#c92a2a" for v in values])
    axis.set_xscale("log")
    axis.axvline(1, color="black", linewidth=0.8)
    axis.set_xlabel("speed-up of the optimised twin (naive / optimised; log scale; < 1 means slower)")
    for bar, value in zip(bars, values):
        axis.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:,.2f}x", va="center", fontsize=8)
    axis.set_title("Optimised vs naive twin, side by side in one run")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
