"""The job admin in a real browser: Debian's Chromium, headless, driven by
selenium against Django's live server on loopback, with a REAL Celery worker
running the jobs.

Skipped when Chromium, chromedriver or selenium is missing, except under
``CI=true`` where it fails (``scripts/browser-deps`` installs them).
``RBE_ADMIN_SCREENSHOT=path.png`` saves the job list at 1280 px while a job
runs (docs/images/admin-jobs.png, the picture in docs/operations.md).
"""

import json
import os
import shutil
import time

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from rest_bulk_ext.jobs.models import BulkJob
from tests.jobs.support import unavailable, wait_for, wait_for_job
from tests.testapp.models import AuditNote

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/rest_bulk_ext/bulkjob/"
BROWSERS = ("chromium", "chromium-browser")
DRIVERS = ("chromedriver",)


def find(names):
    for name in names:
        found = shutil.which(name) or (os.path.exists(f"/usr/lib/chromium/{name}") and f"/usr/lib/chromium/{name}")
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed (pip install -e '.[test]')")
    binary, driver_path = find(BROWSERS), find(DRIVERS)
    if not (binary and driver_path):
        unavailable("Chromium and chromedriver are not installed (scripts/browser-deps installs them)")
    options = Options()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1920,820", "--force-device-scale-factor=1"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def log_in(browser, live_server, username, password):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/admin/login/?next={CHANGELIST}")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(lambda: browser.current_url.endswith(CHANGELIST), timeout=20, what="the admin login")


def messages(browser):
    from selenium.webdriver.common.by import By

    return [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".messagelist li")]


def wait_for_message(browser, text, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in message for message in messages(browser)):
            return
        time.sleep(0.1)
    pytest.fail(f"No message {text!r} on {browser.current_url}: {messages(browser)!r}", pytrace=False)


def row_xpath(task_id):
    # The list shows the id's beginning; the whole id is the tooltip.
    return f"//tr[.//span[@title='{task_id}']]"


def bar_of(browser, task_id):
    """(state, width %) of the job's progress bar, as the page shows it now."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        row = browser.find_element(By.XPATH, row_xpath(task_id))
        progress = row.find_element(By.CSS_SELECTOR, ".rbe-progress")
        width = progress.find_element(By.CSS_SELECTOR, ".rbe-progress-bar").value_of_css_property("width")
        outer = progress.value_of_css_property("width")
        return progress.get_attribute("data-state"), round(100 * float(width[:-2]) / float(outer[:-2]), 1)
    except (NoSuchElementException, StaleElementReferenceException):
        return None, None


# The columns an operator reads, left to right: none may need a scroll.
COLUMNS = ("short_task_id", "owner", "operation", "state", "progress", "items", "written", "failed", "created",
           "finished", "duration")  # fmt: skip


def assert_the_list_fits_1280_px(browser):
    """At a 1280 px wide window every column of the job list, the filters
    beside it included, is on screen without a horizontal scroll."""
    browser.set_window_size(1280, 800)
    wait_for(lambda: browser.execute_script("return window.innerWidth") <= 1280, timeout=10, what="the resize")
    geometry = browser.execute_script(
        """
        const columns = {};
        for (const name of arguments[0]) {
          const th = document.querySelector("th.column-" + name);
          columns[name] = th ? th.getBoundingClientRect().right : null;
          if (th) { columns[name + ":width"] = th.getBoundingClientRect().width; }
        }
        const filter = document.getElementById("changelist-filter");
        const results = document.querySelector("#changelist .results");
        return {viewport: document.documentElement.clientWidth,
                scroll: document.documentElement.scrollWidth,
                table: [results.scrollWidth, results.clientWidth, results.getBoundingClientRect().right],
                columns: columns,
                filter: filter ? filter.getBoundingClientRect().right : null,
                operations: Array.from(document.querySelectorAll("td.field-operation")).map(td => td.textContent)};
        """,
        COLUMNS,
    )
    assert 1200 <= geometry["viewport"] <= 1280, geometry
    assert geometry["scroll"] <= geometry["viewport"], geometry
    # The table scrolls inside its own box when it is too wide: it must not.
    table_width, box_width, box_right = geometry["table"]
    assert table_width <= box_width, json.dumps(geometry)
    rights = [geometry["columns"][name] for name in COLUMNS]
    assert all(right is not None and right <= box_right for right in rights), geometry
    assert geometry["filter"] is not None and geometry["filter"] <= geometry["viewport"], geometry
    assert set(geometry["operations"]) == {"Create"}, geometry  # named, not bulk_create


def test_an_operator_watches_a_job_move_opens_a_finished_one_and_cancels_another(
    django_db_setup, browser, live_server, celery_worker, jobs_settings
):
    # django_db_setup first: a live server started before the test database
    # exists would see SQLite's ":memory:" name and share this thread's
    # connection with its request threads.
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    admin = get_user_model().objects.create_superuser("operator", "op@example.com", "s3cret-pw")
    api = APIClient()
    api.force_authenticate(admin)

    # Logged in first: on SQLite, saving the session while a job's chunk
    # holds the write lock would be "database is locked".
    log_in(browser, live_server, "operator", "s3cret-pw")

    # A finished job, and a slow one (a chunk of 10 items about every 0.5 s).
    finished = api.post(
        "/ops-test/audit-notes/bulk/?async=true&atomic=false", [{"title": "a"}, {"title": "bad"}], format="json"
    )
    finished_job = wait_for_job(finished.data["task_id"], celery_worker)
    assert finished_job.state == "SUCCESS", finished_job.failure_detail
    slow = api.post("/ops-test/slow-audit-notes/bulk/?atomic=false", [{"title": f"s{n}"} for n in range(400)],
                    format="json")  # fmt: skip
    assert slow.status_code == 202, slow.data
    task_id = slow.data["task_id"]
    wait_for_job(task_id, celery_worker, states=("PROGRESS",))

    # The bar moves without a reload.
    browser.get(f"{live_server.url}{CHANGELIST}")
    first = wait_for(lambda: (bar_of(browser, task_id)[1] or 0) > 0 and bar_of(browser, task_id), timeout=30,
                     worker=celery_worker, what="the running job's bar to fill")  # fmt: skip
    assert first[0] == "PROGRESS"
    marker = browser.execute_script("window.rbeNotReloaded = true; return window.rbeNotReloaded;")
    assert marker is True
    later = wait_for(lambda: (bar_of(browser, task_id)[1] or 0) > first[1] + 1 and bar_of(browser, task_id),
                     timeout=30, worker=celery_worker, what="the bar to move")  # fmt: skip
    assert later[0] == "PROGRESS" and later[1] < 100
    assert browser.execute_script("return window.rbeNotReloaded === true;")
    assert_the_list_fits_1280_px(browser)
    if os.environ.get("RBE_ADMIN_SCREENSHOT"):
        time.sleep(1.5)
        browser.save_screenshot(os.environ["RBE_ADMIN_SCREENSHOT"])
    browser.set_window_size(1920, 820)

    # Cancel the running job with the list's action.
    row = browser.find_element(By.XPATH, row_xpath(task_id))
    row.find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("cancel_jobs")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    wait_for_message(browser, "Cancelled 1 job.")
    job = wait_for_job(task_id, celery_worker, states=("REVOKED",))
    written = AuditNote.objects.filter(title__startswith="s").count()
    assert 0 < written < 400
    assert job.success_count == written  # committed chunks stay, and are counted
    assert bar_of(browser, task_id)[0] == "REVOKED"

    # Open the finished job: its counts, errors and CSV links.
    browser.find_element(By.XPATH, f"{row_xpath(finished_job.task_id)}//a").click()
    wait_for(lambda: finished_job.task_id in browser.title or "View bulk job" in browser.page_source, timeout=20,
             what="the job's page")  # fmt: skip
    page = browser.page_source
    assert "This title is refused." in page
    links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.rbe-download")}
    assert links == {
        "errors.csv": f"{live_server.url}/api/bulk-operations/{finished_job.task_id}/errors.csv",
        "results.csv": f"{live_server.url}/api/bulk-operations/{finished_job.task_id}/results.csv",
    }
    assert not browser.find_elements(By.CSS_SELECTOR, ".rbe-cancel-button")
    # The status endpoint answers the admin's session (what the bars poll).
    body = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.json()).then(done);",
        f"/api/bulk-operations/{finished_job.task_id}/status/",
    )
    assert body["state"] == "SUCCESS" and body["progress"]["percentage"] == 100.0
    assert BulkJob.objects.get(task_id=finished_job.task_id).error_count == 1
