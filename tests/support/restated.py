"""Find the shared rules restated in the page's JS and CSS: status lists, transitions, roles and status colours.

The page must read them from the JSON the template embeds (static/rules.js). A "restatement" is any innermost
`[...]` holding two or more quoted codes of one kind, an innermost `{...}` with two or more of them as keys
(an object mapping statuses), a CSS class per status
(`.s-in_progress`), or a status colour of the server's written as a literal.
"""
import re
from pathlib import Path

from apps.api.domain import statuses

STATIC = Path(statuses.__file__).resolve().parent.parent / "static"
INNERMOST = re.compile(r"\[[^\[\]]*\]|\{[^{}]*\}")
QUOTED = r"""(["'`]){code}\1"""  # "draft" in a list
KEY = r"""(?<![\w.-])(["'`]?){code}\1\s*:"""  # draft: ... in an object
KINDS = {
    "job statuses": statuses.JOB_STATUSES, "step statuses": statuses.STEP_STATUSES + ("paused",),
    "machine statuses": statuses.MACHINE_STATUSES, "priorities": statuses.PRIORITIES, "roles": statuses.ROLES,
}


def status_colours() -> set[str]:
    """Return every status badge colour the server defines (job, step, machine), upper case."""
    looks = [statuses.JOB_LOOKS, statuses.STEP_LOOKS, statuses.MACHINE_LOOKS]
    return {look.colour.upper() for kind in looks for look in kind.values()}


def findings(name: str, text: str) -> list[str]:
    """Return each restatement in one file's text, described for a failure message."""
    found = []
    for span in INNERMOST.findall(text):
        for kind, codes in KINDS.items():
            shape = QUOTED if span[0] == "[" else KEY
            named = {code for code in codes if re.search(shape.format(code=code), span)}
            if len(named) >= 2:
                found.append(f"{name}: {kind} {sorted(named)} in {span[:80]!r}")
    every_code = {code for codes in KINDS.values() for code in codes}
    for selector in re.findall(r"\.s-([a-z_]+)", text):
        if selector in every_code:
            found.append(f"{name}: a CSS class per status, .s-{selector}")
    for literal in re.findall(r"#[0-9a-fA-F]{6}\b", text):
        if literal.upper() in status_colours():
            found.append(f"{name}: the status colour {literal}")
    return found


def page_restatements(root: Path = STATIC) -> list[str]:
    """Return the restatements in every JS and CSS file under `root`."""
    return [finding for path in sorted(root.rglob("*")) if path.suffix in (".js", ".css")
            for finding in findings(str(path.relative_to(root)), path.read_text(encoding="utf-8"))]
