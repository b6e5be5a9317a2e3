"""A real headless Chromium (Debian's chromium + chromium-driver, installed when missing) driven by Selenium."""
import os
import shutil
import tempfile
import time
from contextlib import contextmanager

from tests.support.system import ensure_program

WAIT_SECONDS = 20  # generous: the machine running the suite may be loaded; nothing here is a timing claim
# Nothing in the background may reach the network: these machines (and many shop networks) have none.
QUIET_FLAGS = ("--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
               "--disable-dev-shm-usage", "--metrics-recording-only", "--no-default-browser-check",
               "--disable-features=Translate,MediaRouter,OptimizationHints",
               # two tabs of one test both stay awake (a throttled background tab would not poll)
               "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
               "--disable-backgrounding-occluded-windows", "--hide-scrollbars")


def chromium_paths():
    """Return (chromium, chromedriver), installing Debian's packages when missing."""
    return ensure_program("chromium", "chromium"), ensure_program("chromedriver", "chromium-driver")


@contextmanager
def chromium(width=1280, height=900):
    """Yield a Selenium WebDriver on a fresh headless Chromium profile; quit and remove it after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser_path, driver_path = chromium_paths()
    profile = tempfile.mkdtemp(prefix="printshop-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager (which would download a driver) never runs.
    service = Service(executable_path=driver_path, log_output=os.devnull)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, timeout=WAIT_SECONDS, message=""):
    """Wait until `condition(driver)` is truthy; return its value (TimeoutException otherwise).

    An element the page replaced between finding and reading it (it re-renders a view when an answer
    arrives) or has not drawn yet only means "not yet": the condition is asked again.
    """
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(condition, message)


def by_css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def log_in(driver, base_url, username, password="demo"):
    """Open the page, fill the login form and wait until the first view has its data."""
    driver.get(base_url + "/")
    wait_for(driver, lambda d: by_css(d, "#username"), message="no login form")
    by_css(driver, "#username")[0].send_keys(username)
    by_css(driver, "#password")[0].send_keys(password)
    by_css(driver, "form.login button[type=submit]")[0].click()
    wait_for(driver, lambda d: not by_css(d, "#bar[hidden]") and not by_css(d, "main[aria-busy=true]"),
             message=f"{username}'s first view did not load")


def console_errors(driver):
    """Return the browser console's errors since the last call (CSP violations and script errors show here)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def foreign_requests(driver, base_url):
    """Return the URLs of every resource this document loaded from anywhere but `base_url`."""
    names = driver.execute_script(
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".map(e => e.name)")
    return [name for name in names if not name.startswith(base_url + "/")]


def screenshot(driver, path, whole=True):
    """Save a PNG of the page at `path`: the whole page (the window grown to the document's height), or
    only what the window shows."""
    if whole:
        width = driver.get_window_size()["width"]
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, max(600, min(int(height) + 140, 4000)))
        time.sleep(0.3)  # one layout after the resize
    os.makedirs(os.path.dirname(path), exist_ok=True)
    driver.save_screenshot(path)


def texts(driver, selector):
    """Return the visible text of every element matching `selector`, read in one go (the page redraws as it
    polls, so element handles kept across calls may go stale)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText.trim())", selector)


def rows(driver, selector):
    """Return each row matching `selector` as the list of its cells' texts, read in one go."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]),"
        " r => Array.from(r.querySelectorAll('td'), c => c.innerText.trim()))", selector)
