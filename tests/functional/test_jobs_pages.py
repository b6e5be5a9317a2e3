"""The jobs pages in a real headless Chromium against the real service under gunicorn, driven by the words on
the screen and the labels of fields: the list and its search, the Overdue tile, the new job form (two steps, a
double click, a field error), the ticket's QR code read by zbar, the CSV export, a viewer's read-only view and
the keyboard shortcuts. The run saves the screenshots shown in README (docs/screenshots/).
"""
import subprocess

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from apps.api.config import PROJECT_ROOT
from tests.support.apps import module_app
from tests.support.browser import by_css, console_errors, log_in, rows, screenshot, wait_for
from tests.support.factories import add_customer, add_job
from tests.support.gunicorn import page_server
from tests.support.shop_floor import arrange_shop
from tests.support.system import ensure_program

pytestmark = [pytest.mark.browser, pytest.mark.multiprocess, pytest.mark.slow]
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def shop(test_database):
    """The reset test database with a small shop, served by a real gunicorn (2 workers)."""
    with module_app(test_database) as (app, auth, conn):
        ids = arrange_shop(conn, auth.user_id("operator1"))
        with page_server(test_database[0]) as server:
            yield server, auth, conn, ids


@pytest.fixture
def page(browser, shop):
    """The browser at desk width on a blank page with no session, its console read empty."""
    browser.set_window_size(1280, 900)
    browser.get(shop[0].base_url + "/static/icon.svg")
    browser.execute_script("sessionStorage.clear()")
    console_errors(browser)
    yield browser
    # Script errors and CSP violations fail the test; an expected 4xx answer (the field error) is no defect.
    assert [message for message in console_errors(browser) if "Failed to load resource" not in message] == []


def api(shop, path, username="manager", method="GET", body=None, headers=None):
    server, auth = shop[0], shop[1]
    status, answer_headers, answer = server.request(method, path, body, dict(headers or {}, **auth.headers(username)))
    assert status in (200, 201), (status, answer)
    return answer


def button(driver, text):
    """Wait for the visible button or link whose text (or accessible name) is `text`; return it."""
    xpath = (f'//button[normalize-space()="{text}"] | //a[normalize-space()="{text}"]'
             f' | //button[@aria-label="{text}"]')

    def visible(d):
        return next((element for element in d.find_elements(By.XPATH, xpath) if element.is_displayed()), None)

    return wait_for(driver, visible, message=f"no visible control reads {text!r}")


def labelled(driver, text):
    """Return the field whose <label> reads `text`."""
    label = driver.find_element(By.XPATH, f'//label[normalize-space()="{text}"]')
    return driver.find_element(By.ID, label.get_attribute("for"))


def open_view(driver, shop, hash_route, username="manager"):
    if not by_css(driver, "#bar:not([hidden])"):
        log_in(driver, shop[0].base_url, username)
    driver.get(f"{shop[0].base_url}/#{hash_route}")
    wait_for(driver, lambda d: not by_css(d, "main[aria-busy=true]"), message=f"{hash_route} did not load")


def listed_numbers(driver):
    wait_for(driver, lambda d: by_css(d, "table.jobs tbody tr") and not by_css(d, "main[aria-busy=true]"))
    return [cells[0] for cells in rows(driver, "table.jobs tbody tr") if len(cells) > 1]


def fill_new_job(driver, title, steps):
    """Fill the new job form: Harbour Signs Ltd, `title`, and `steps` as (process, machine, assignee) texts."""
    button(driver, "New job").click()
    wait_for(driver, lambda d: by_css(d, "#job-title"), message="the form did not open")
    labelled(driver, "Customer").send_keys("Harbour")
    button(driver, "Harbour Signs Ltd").click()
    wait_for(driver, lambda d: "Harbour Signs Ltd" in d.find_element(By.CSS_SELECTOR, ".chosen").text)
    labelled(driver, "Title").send_keys(title)
    labelled(driver, "Due date").send_keys("03022027")
    choose(labelled(driver, "Priority"), "high")
    for number, (process, machine, person) in enumerate(steps, start=1):
        button(driver, "Add step").click()
        if process:
            Select(labelled(driver, f"Process for step {number}")).select_by_visible_text(process)
        if machine:
            Select(labelled(driver, f"Machine for step {number}")).select_by_visible_text(machine)
        if person:
            Select(labelled(driver, f"Assignee for step {number}")).select_by_visible_text(person)


def choose(select, text):
    """Choose the option of `select` that reads `text`, in any case (the server words the statuses)."""
    Select(select).select_by_visible_text(next(option.text for option in Select(select).options
                                               if option.text.strip().lower() == text.lower()))


def jobs_titled(shop, title):
    with shop[2].cursor() as cur:
        cur.execute("SELECT id FROM jobs WHERE title = %s", (title,))
        return [row[0] for row in cur.fetchall()]


def test_a_job_entered_with_two_steps_comes_back_from_the_api_with_them(page, shop):
    open_view(page, shop, "/jobs")
    fill_new_job(page, "Shop window decals", [("Print", "HP Latex 570", None), ("Cut", "Zünd G3", None)])
    for width in (1280, 390):
        page.set_window_size(width, 900)
        screenshot(page, str(SCREENSHOTS / f"new-job-{width}.png"))
    page.set_window_size(1280, 900)
    button(page, "Save").click()
    wait_for(page, lambda d: d.execute_script("return location.hash").startswith("#/jobs/")
             and d.execute_script("return /^#\\/jobs\\/\\d+$/.test(location.hash)"), message="no job page after Save")
    job_id = int(page.execute_script("return location.hash").rsplit("/", 1)[1])
    job = api(shop, f"/api/jobs/{job_id}")
    machines = {item["id"]: item["name"] for item in api(shop, "/api/machines?per_page=100")["items"]}
    assert (job["title"], job["customer_name"], job["priority"], job["due_date"]) == (
        "Shop window decals", "Harbour Signs Ltd", "high", "2027-03-02")
    assert [(step["step_order"], step["name"], machines[step["machine_id"]]) for step in job["steps"]] == [
        (1, "Print", "HP Latex 570"), (2, "Cut", "Zünd G3")]
    wait_for(page, lambda d: "Shop window decals" in d.find_element(By.TAG_NAME, "h1").text)
    # a manager changes its fields from the job's page (If-Match: the ETag it was drawn from)
    wait_for(page, lambda d: d.find_element(By.XPATH, '//summary[normalize-space()="Edit job"]')).click()
    labelled(page, "Title").clear()
    labelled(page, "Title").send_keys("Shop window decals, frosted")
    choose(labelled(page, "Priority"), "urgent")
    button(page, "Save").click()
    wait_for(page, lambda d: "frosted" in d.find_element(By.TAG_NAME, "h1").text, message="the edit did not show")
    job = api(shop, f"/api/jobs/{job_id}")
    assert (job["title"], job["priority"]) == ("Shop window decals, frosted", "urgent")


def test_a_double_click_on_save_makes_one_job(page, shop):
    open_view(page, shop, "/jobs")
    fill_new_job(page, "Double clicked banner", [("Print", None, None)])
    ActionChains(page).double_click(button(page, "Save")).perform()
    wait_for(page, lambda d: d.execute_script("return /^#\\/jobs\\/\\d+$/.test(location.hash)"),
             message="no job page after Save")
    assert len(jobs_titled(shop, "Double clicked banner")) == 1


def test_a_field_error_shows_beside_its_field_and_creates_nothing(page, shop):
    open_view(page, shop, "/jobs")
    fill_new_job(page, "Nothing made of this", [("Print", None, None), (None, "Zünd G3", None)])
    button(page, "Save").click()
    process = labelled(page, "Process for step 2")
    wait_for(page, lambda d: process.get_attribute("aria-invalid") == "true", message="no error on step 2's process")
    described = page.find_element(By.ID, process.get_attribute("aria-describedby"))
    assert described.is_displayed() and described.text.startswith("Choose one.")
    assert page.execute_script("return arguments[0].nextElementSibling === arguments[1]", process, described)
    assert labelled(page, "Process for step 1").get_attribute("aria-invalid") is None
    assert jobs_titled(shop, "Nothing made of this") == []
    assert page.execute_script("return location.hash") == "#/jobs/new"


def test_a_search_for_part_of_a_title_shows_the_apis_first_page(page, shop):
    open_view(page, shop, "/jobs")
    labelled(page, "Search jobs").send_keys("sign\n")
    wait_for(page, lambda d: "q=sign" in d.execute_script("return location.hash"), message="no search in the address")
    expected = api(shop, "/api/jobs?q=sign&sort=created_at&order=desc&per_page=50")
    assert expected["items"], "the shop has jobs with 'sign' in the title"
    wait_for(page, lambda d: listed_numbers(d) == [item["job_number"] for item in expected["items"]],
             message="the list differs from the API's first page")
    count = page.find_element(By.CSS_SELECTOR, ".count-line").text
    assert count == f"{len(expected['items'])} of {expected['pagination']['total']}"
    for width in (1280, 390):
        page.set_window_size(width, 900)
        screenshot(page, str(SCREENSHOTS / f"jobs-list-{width}.png"))
        assert page.execute_script("return document.documentElement.scrollWidth <= innerWidth")
    page.set_window_size(1280, 900)
    labelled(page, "Search jobs").clear()
    labelled(page, "Search jobs").send_keys("ab\n")
    wait_for(page, lambda d: "at least three letters or digits" in d.find_element(By.TAG_NAME, "main").text)
    page.back()
    wait_for(page, lambda d: d.execute_script("return location.hash") == "#/jobs?q=sign")
    page.back()  # the address held the filter: back gives the list before it
    wait_for(page, lambda d: d.execute_script("return location.hash") == "#/jobs")
    everything = api(shop, "/api/jobs?sort=created_at&order=desc&per_page=50")
    wait_for(page, lambda d: listed_numbers(d) == [item["job_number"] for item in everything["items"]])


def test_the_overdue_tile_opens_the_overdue_list(page, shop):
    open_view(page, shop, "/dashboard")
    wait_for(page, lambda d: d.find_element(By.XPATH, '//a[.//*[normalize-space()="Overdue"]]')).click()
    wait_for(page, lambda d: d.execute_script("return location.hash") == "#/jobs?overdue=true")
    expected = api(shop, "/api/jobs?overdue=true&sort=created_at&order=desc&per_page=50")
    assert expected["items"]
    wait_for(page, lambda d: listed_numbers(d) == [item["job_number"] for item in expected["items"]])
    assert labelled(page, "Overdue only").is_selected()


def test_the_tickets_qr_code_gives_the_jobs_address(page, shop, tmp_path):
    zbarimg = ensure_program("zbarimg", "zbar-tools")
    job_id = shop[3]["jobs"][1]
    open_view(page, shop, f"/jobs/{job_id}")
    button(page, "Print ticket").click()
    wait_for(page, lambda d: by_css(d, "svg.qr"), message="no QR code on the ticket")
    for width in (1280, 390):
        page.set_window_size(width, 900)
        path = SCREENSHOTS / f"ticket-{width}.png"
        screenshot(page, str(path))
        decoded = subprocess.run([zbarimg, "--quiet", "--raw", str(path)], capture_output=True, text=True,
                                 timeout=60)
        assert decoded.stdout.strip() == f"{shop[0].base_url}/#/jobs/{job_id}", decoded.stderr
    page.set_window_size(1280, 900)
    assert page.execute_script("return getComputedStyle(document.getElementById('bar')).display") != "none"
    page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert page.execute_script("return getComputedStyle(document.getElementById('bar')).display") == "none"
    finally:
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_the_csv_from_export_equals_the_apis_for_the_same_filter(page, shop, tmp_path):
    page.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_view(page, shop, "/jobs")
    choose(labelled(page, "Status"), "active")
    wait_for(page, lambda d: "status=active" in d.execute_script("return location.hash"))
    listed_numbers(page)
    button(page, "Export CSV").click()
    saved = tmp_path / "jobs.csv"
    wait_for(page, lambda d: saved.exists() and saved.stat().st_size > 0, message="no jobs.csv downloaded")
    server, auth = shop[0], shop[1]
    status, headers, expected = server.request(
        "GET", "/api/jobs?status=active&sort=created_at&order=desc", None,
        dict(auth.headers("manager"), Accept="text/csv"))
    assert status == 200 and headers["Content-Type"].startswith("text/csv"), (status, headers)
    got = saved.read_bytes().decode("utf-8")  # as sent: the CSV's lines end in CRLF
    assert got == expected
    assert len(got.splitlines()) == 1 + api(shop, "/api/jobs?status=active")["pagination"]["total"]


def test_a_viewer_sees_no_write_controls(page, shop):
    open_view(page, shop, "/jobs", username="viewer")
    listed_numbers(page)
    words = page.find_element(By.TAG_NAME, "main").text
    assert "New job" not in words and "Export CSV" not in words
    page.find_element(By.TAG_NAME, "body").send_keys("n")
    page.execute_script("return new Promise(r => setTimeout(r, 300))")
    assert page.execute_script("return location.hash") == "#/jobs"
    open_view(page, shop, f"/jobs/{shop[3]['jobs'][1]}", username="viewer")
    button(page, "Print ticket")
    assert not by_css(page, "details.edit-job") and not by_css(page, "#job-status")


def test_keyboard_shortcuts_search_and_new_job(page, shop):
    open_view(page, shop, "/dashboard")
    ActionChains(page).send_keys("/").perform()
    wait_for(page, lambda d: d.execute_script("return document.activeElement.id") == "job-search",
             message='"/" did not focus the job search')
    assert "Keyboard shortcuts: / search jobs · n new job." in page.find_element(By.TAG_NAME, "main").text
    ActionChains(page).send_keys("n").perform()  # typed into the search box: no shortcut
    assert page.find_element(By.ID, "job-search").get_attribute("value") == "n"
    page.execute_script("document.activeElement.blur()")
    ActionChains(page).send_keys("n").perform()
    wait_for(page, lambda d: d.execute_script("return location.hash") == "#/jobs/new",
             message='"n" did not open New job')
    open_view(page, shop, "/dashboard")
    # a scanner's burst (keys well under 50 ms apart) holding "n" and "/" opens no shortcut
    ActionChains(page).send_keys("JOB-n/12").perform()
    page.execute_script("return new Promise(r => setTimeout(r, 300))")
    assert page.execute_script("return location.hash") == "#/dashboard"


def test_steps_are_removed_and_reordered_before_saving(page, shop):
    open_view(page, shop, "/jobs")
    fill_new_job(page, "Reordered steps", [("Print", None, None), ("Design", None, None), ("Cut", None, None)])
    button(page, "Remove step 2").click()
    button(page, "Move step 2 up").click()
    assert [Select(labelled(page, f"Process for step {n}")).first_selected_option.text for n in (1, 2)] == [
        "Cut", "Print"]
    button(page, "Save").click()
    wait_for(page, lambda d: d.execute_script("return /^#\\/jobs\\/\\d+$/.test(location.hash)"))
    job_id = int(page.execute_script("return location.hash").rsplit("/", 1)[1])
    assert [step["name"] for step in api(shop, f"/api/jobs/{job_id}")["steps"]] == ["Cut", "Print"]


def test_load_more_follows_the_cursor_to_the_end(page, shop):
    customer = shop[3]["customers"][2]
    for number in range(55):
        add_job(shop[2], customer, status="active", title=f"Bulk flyer run {number}")
    open_view(page, shop, "/jobs?q=flyer")
    first = api(shop, "/api/jobs?q=flyer&sort=created_at&order=desc&per_page=50")
    wait_for(page, lambda d: listed_numbers(d) == [item["job_number"] for item in first["items"]])
    assert page.find_element(By.CSS_SELECTOR, ".count-line").text == "50 of 55"
    button(page, "Load more").click()
    rest = api(shop, "/api/jobs?q=flyer&sort=created_at&order=desc&per_page=50&cursor="
               + first["pagination"]["next_cursor"])
    wait_for(page, lambda d: d.find_element(By.CSS_SELECTOR, ".count-line").text == "55 of 55")
    assert listed_numbers(page) == [item["job_number"] for item in first["items"] + rest["items"]]
    assert not [element for element in page.find_elements(By.XPATH, '//button[normalize-space()="Load more"]')
                if element.is_displayed()]


def test_a_reload_of_a_pending_submit_makes_the_job_once(page, shop):
    open_view(page, shop, "/jobs")
    fill_new_job(page, "Answer lost on the way", [("Print", "HP Latex 570", None)])
    page.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    page.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    try:
        button(page, "Save").click()
        wait_for(page, lambda d: "will not be made twice" in d.find_element(By.ID, "notice").text)
    finally:
        page.execute_cdp_cmd("Network.emulateNetworkConditions", dict(offline, offline=False))
    pending = page.execute_script("return JSON.parse(sessionStorage.getItem('printshop.new-job'))")
    # The first Save reached the server after all, and only its answer was lost:
    first = api(shop, "/api/jobs", method="POST", body=pending["body"], headers={"Idempotency-Key": pending["key"]})
    page.refresh()
    wait_for(page, lambda d: "Your last Save was not confirmed" in d.find_element(By.TAG_NAME, "main").text)
    assert labelled(page, "Title").get_attribute("value") == "Answer lost on the way"
    button(page, "Save").click()
    wait_for(page, lambda d: d.execute_script("return location.hash") == f"#/jobs/{first['id']}",
             message="Save after the reload did not open the job the first Save made")
    assert jobs_titled(shop, "Answer lost on the way") == [first["id"]]
    assert page.execute_script("return sessionStorage.getItem('printshop.new-job')") is None


def test_a_link_with_filters_and_sort_gives_that_list(page, shop):
    customer = shop[3]["customers"][1]
    open_view(page, shop, f"/jobs?customer_id={customer}&sort=due_date")
    expected = api(shop, f"/api/jobs?customer_id={customer}&sort=due_date&order=asc&per_page=50")
    assert len(expected["items"]) > 1
    wait_for(page, lambda d: listed_numbers(d) == [item["job_number"] for item in expected["items"]])
    wait_for(page, lambda d: Select(labelled(d, "Customer")).first_selected_option.text == "Riverside Print Co")
    assert Select(labelled(page, "Sort by")).first_selected_option.text == "Due date"
    Select(labelled(page, "Sort by")).select_by_visible_text("Priority")
    wait_for(page, lambda d: d.execute_script("return location.hash")
             == f"#/jobs?customer_id={customer}&sort=priority")
    by_priority = api(shop, f"/api/jobs?customer_id={customer}&sort=priority&order=desc&per_page=50")
    wait_for(page, lambda d: listed_numbers(d) == [item["job_number"] for item in by_priority["items"]])


def test_long_unbroken_names_scroll_nothing_sideways(page, shop):
    word = "Longcustomername" * 12 + "Ltd"  # 195 characters, no space to break at
    customer = add_customer(shop[2], word)
    job_id = add_job(shop[2], customer, status="active", title="Unbroken" + "x" * 190)
    open_view(page, shop, "/jobs?q=unbrokenxxx")
    listed_numbers(page)
    for route in ("/jobs?q=unbrokenxxx", f"/jobs/{job_id}", f"/jobs/{job_id}/ticket"):
        open_view(page, shop, route)
        wait_for(page, lambda d: word in d.find_element(By.TAG_NAME, "main").text, message=f"{route} has no name")
        for width in (390, 768, 1280):
            page.set_window_size(width, 900)
            assert page.execute_script("return document.documentElement.scrollWidth <= innerWidth"), (route, width)
    page.set_window_size(1280, 900)


def test_due_from_and_due_to_give_the_apis_list(page, shop):
    open_view(page, shop, "/jobs")
    labelled(page, "Due from").send_keys("01012020")
    wait_for(page, lambda d: "due_from=2020-01-01" in d.execute_script("return location.hash"))
    with shop[2].cursor() as cur:
        cur.execute("SELECT to_char(current_date + 5, 'MMDDYYYY'), (current_date + 5)::text")
        typed, until = cur.fetchone()
    labelled(page, "Due to").send_keys(typed)
    wait_for(page, lambda d: f"due_to={until}" in d.execute_script("return location.hash"))
    expected = api(shop, f"/api/jobs?due_from=2020-01-01&due_to={until}&sort=created_at&order=desc&per_page=50")
    everything = api(shop, "/api/jobs?per_page=1")["pagination"]["total"]
    assert 0 < expected["pagination"]["total"] < everything
    wait_for(page, lambda d: listed_numbers(d) == [item["job_number"] for item in expected["items"]])


def test_a_pending_submit_is_its_users_alone(page, shop):
    open_view(page, shop, "/jobs")
    someone_else = {"userId": shop[1].user_id("admin"), "key": "k", "customer": None,
                    "body": {"customer_id": None, "title": "Not yours", "priority": "normal", "steps": []}}
    page.execute_script("sessionStorage.setItem('printshop.new-job', JSON.stringify(arguments[0]))", someone_else)
    button(page, "New job").click()
    wait_for(page, lambda d: by_css(d, "#job-title"))
    assert labelled(page, "Title").get_attribute("value") == ""
    assert "not confirmed" not in page.find_element(By.TAG_NAME, "main").text
    mine = dict(someone_else, userId=shop[1].user_id("manager"))
    page.execute_script("sessionStorage.setItem('printshop.new-job', JSON.stringify(arguments[0]))", mine)
    page.refresh()
    wait_for(page, lambda d: "Your last Save was not confirmed" in d.find_element(By.TAG_NAME, "main").text)
    assert labelled(page, "Title").get_attribute("value") == "Not yours"
    button(page, "Log out").click()
    wait_for(page, lambda d: by_css(d, "#username"))
    assert page.execute_script("return sessionStorage.getItem('printshop.new-job')") is None


def test_the_list_says_when_the_server_cannot_be_reached_and_retries(page, shop):
    open_view(page, shop, "/jobs")  # the view's module is loaded (views load when first opened)
    page.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    page.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    try:
        page.execute_script("location.hash = '#/jobs?status=active'")
        wait_for(page, lambda d: "cannot be reached" in d.find_element(By.ID, "notice").text)
    finally:
        page.execute_cdp_cmd("Network.emulateNetworkConditions", dict(offline, offline=False))
    expected = api(shop, "/api/jobs?status=active&sort=created_at&order=desc&per_page=50")
    wait_for(page, lambda d: listed_numbers(d) == [item["job_number"] for item in expected["items"]],
             message="the list did not come back by itself")
    wait_for(page, lambda d: not d.find_element(By.ID, "notice").is_displayed())
