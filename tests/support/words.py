"""Find what a person finds on the page: a field by its label's words, a button or link by its name."""
from tests.support.browser import wait_for

FIND_BY_NAME = """
const [tag, name] = arguments;
const named = (e) => (e.getAttribute('aria-label') || e.textContent).trim() === name;
return Array.from(document.querySelectorAll(tag)).find((e) => named(e) && e.offsetParent !== null) || null;
"""
FIND_BY_LABEL = """
const label = Array.from(document.querySelectorAll('label')).find((l) => l.textContent.trim() === arguments[0]);
return label ? document.getElementById(label.htmlFor) : null;
"""


def button(driver, name, tag="button"):
    """Wait for the visible button (or `tag`) whose accessible name is `name`; return it."""
    return wait_for(driver, lambda d: d.execute_script(FIND_BY_NAME, tag, name), message=f"no {tag} {name!r}")


def has_button(driver, name, tag="button"):
    """Return whether a visible button (or `tag`) is named `name` right now."""
    return driver.execute_script(FIND_BY_NAME, tag, name) is not None


def field(driver, label):
    """Wait for the field labelled `label`; return it."""
    return wait_for(driver, lambda d: d.execute_script(FIND_BY_LABEL, label), message=f"no field {label!r}")


def text_of(driver, selector="main"):
    """Return the visible text of the first element matching `selector`."""
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''",
                                 selector)
