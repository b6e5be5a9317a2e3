"""axe-core in the real browser: inject the vendored copy and run the WCAG 2.2 AA rules on the current page."""
import hashlib
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"  # axe-core 4.10.3
WCAG_22_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
GRAVE = ("serious", "critical")
_source: list[str] = []


def axe_source() -> str:
    """Return the pinned axe-core source, checked against its hash."""
    if not _source:
        text = AXE.read_bytes()
        assert hashlib.sha256(text).hexdigest() == AXE_SHA256, f"{AXE} is not the pinned axe-core 4.10.3"
        _source.append(text.decode("utf-8"))
    return _source[0]


def grave_violations(driver, where: str) -> list[str]:
    """Run axe on the page the browser shows; return its serious and critical violations, described."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())  # once per document: hash routes keep it
    driver.set_script_timeout(60)
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then((r) => done(r.violations), (e) => done([{id: 'axe-error', impact: 'critical', help: String(e),"
        " nodes: []}]));", list(WCAG_22_AA))
    return [f"{where}: {v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in results if v.get("impact") in GRAVE]


def sideways(driver) -> int:
    """Return how many CSS px the page scrolls sideways (0 when it fits its window)."""
    return int(driver.execute_script(
        "return Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"))
