"""The operator's floor for the browser tests: many assigned steps in plain SQL, and the page read and tapped by
its visible words (buttons by their text, inside the card of one step)."""
from tests.support.browser import by_css, wait_for
from tests.support.factories import add_customer


def add_many_steps(conn, operator_id, machine_id, count, title="Long run", customer_name="Many Steps Ltd"):
    """Give `operator_id` `count` pending steps on `machine_id` (100 per job); return their ids in job order."""
    customer = add_customer(conn, customer_name)
    ids = []
    with conn.cursor() as cur:
        for first in range(0, count, 100):
            cur.execute("INSERT INTO jobs (customer_id, title, status, priority) VALUES (%s, %s, 'active', 'low') "
                        "RETURNING id", (customer, f"{title} {first // 100 + 1}"))
            job_id = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO job_steps (job_id, step_order, process_id, name, status, assigned_to, machine_id) "
                "SELECT %s, n, p.id, p.name, 'pending', %s, %s FROM processes p, generate_series(1, %s) n "
                "WHERE p.code = 'print' ORDER BY n RETURNING id",
                (job_id, operator_id, machine_id, min(100, count - first)))
            ids.extend(row[0] for row in cur.fetchall())
    return ids


def card(step_id):
    return f"article.step-card[data-step-id='{int(step_id)}']"


def buttons(driver, scope, text):
    """Return the visible buttons under `scope` (CSS) whose text is `text`."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' button'))"
        ".filter(b => b.textContent.trim() === arguments[1] && b.offsetParent !== null)", scope, text)


def tap(driver, scope, text, message=""):
    """Wait for the button reading `text` under `scope`, and click it (found again if the page redrew it)."""
    from selenium.common.exceptions import StaleElementReferenceException

    def click(d):
        found = buttons(d, scope, text)
        if not found:
            return False
        try:
            found[0].click()
        except StaleElementReferenceException:
            return False
        return True

    wait_for(driver, click, message=message or f"no {text} in {scope}")


def rect(driver, element):
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height,"
        " width: r.width, vh: window.innerHeight, vw: window.innerWidth}", element)


def in_viewport(driver, element):
    box = rect(driver, element)
    return box["top"] >= 0 and box["left"] >= 0 and box["bottom"] <= box["vh"] and box["right"] <= box["vw"]


def floor_targets(driver):
    """Return the boxes of every visible floor action (Start, Pause, Resume, Complete, Skip) on the page."""
    return driver.execute_script(
        "const words = ['Start', 'Pause', 'Resume', 'Complete', 'Skip'];"
        " return Array.from(document.querySelectorAll('main button'))"
        ".filter(b => words.includes(b.textContent.trim()) && b.offsetParent !== null)"
        ".map(b => { const r = b.getBoundingClientRect();"
        " return {text: b.textContent.trim(), top: r.top, bottom: r.bottom, left: r.left, right: r.right,"
        " card: b.closest('article').dataset.stepId}; })")


def gap(one, other):
    """The distance between two boxes (0 when they touch or overlap)."""
    horizontal = max(other["left"] - one["right"], one["left"] - other["right"], 0)
    vertical = max(other["top"] - one["bottom"], one["top"] - other["bottom"], 0)
    return max(horizontal, vertical)


def tally(driver, selector):
    return wait_for(driver, lambda d: by_css(d, selector) and by_css(d, selector)[0].text.strip(),
                    message=f"no count in {selector}")
