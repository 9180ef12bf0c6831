"""The admin import in a real browser (Debian's Chromium, headless, through
selenium, as tests/admin/test_job_admin_browser.py) with a REAL Celery worker: upload
→ preview with an error shown → confirm → the bar reaches 100 % without the
user reloading → errors.csv downloads.

Skipped when Chromium, chromedriver or selenium is missing, except under
``CI=true`` where it fails (``scripts/browser-deps`` installs them).
``RBE_IMPORT_SCREENSHOTS=dir`` saves the preview and the running job's page
there (docs/images/admin-import-*.png, the pictures in docs/importing.md).
"""

import os
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.admin.test_job_admin_browser import browser  # noqa: F401 (the fixture)
from tests.jobs.support import wait_for
from tests.testapp.models import Account, Tenant

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "/slow-import-admin/tests/account/"
ROWS = 40
BAD_LINE = 8  # the file's line (the header is line 1)


def write_csv(path, tenant):
    lines = ["number,name,tenant"]
    for n in range(ROWS):
        name = "bad" if n + 2 == BAD_LINE else f"Account {n}"
        lines.append(f"b-{n:03d},{name},{tenant.pk}")
    path.write_text("\n".join(lines) + "\n")
    return path


def screenshot(browser, name):
    directory = os.environ.get("RBE_IMPORT_SCREENSHOTS")
    if directory:
        browser.save_screenshot(os.path.join(directory, name))
    return name


def text_of(browser, selector):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, selector).text


def test_an_admin_user_previews_confirms_and_watches_an_import_finish(
    django_db_setup,
    browser,
    live_server,
    celery_worker,
    jobs_settings,
    settings,
    tmp_path,  # noqa: F811
):
    from selenium.webdriver.common.by import By

    settings.ROOT_URLCONF = "tests.admin_import.urls"
    tenant = Tenant.objects.create(name="acme")
    clerk = get_user_model().objects.create_user("clerk", password="s3cret-pw", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["add_account", "view_account"]))
    upload = write_csv(tmp_path / "accounts.csv", tenant)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.set_window_size(1280, 720)
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})

    # Sign in and open the import form from the changelist's button.
    browser.get(f"{live_server.url}/slow-import-admin/login/?next={ADMIN}")
    browser.find_element(By.NAME, "username").send_keys("clerk")
    browser.find_element(By.NAME, "password").send_keys("s3cret-pw")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(lambda: browser.current_url.endswith(ADMIN), timeout=20, what="the admin login")
    browser.find_element(By.CSS_SELECTOR, "a.rbe-import-link").click()
    wait_for(lambda: browser.find_elements(By.ID, "rbe-import-form"), timeout=20, what="the import form")

    # Upload: create rows, not all-or-nothing.
    browser.find_element(By.NAME, "file").send_keys(str(upload))
    atomic = browser.find_element(By.NAME, "atomic")
    if atomic.is_selected():
        atomic.click()
    browser.find_element(By.NAME, "_preview").click()

    # The preview: counts, the failing line with its values, nothing written.
    wait_for(lambda: browser.find_elements(By.ID, "rbe-confirm-form"), timeout=30, what="the preview")
    counts = {name: text_of(browser, f".rbe-count-{name}") for name in ("total", "created", "updated", "failed")}
    assert counts == {"total": "40", "created": "39", "updated": "0", "failed": "1"}
    error_row = browser.find_element(By.CSS_SELECTOR, ".rbe-preview-errors tbody tr").text
    assert error_row.startswith(f"{BAD_LINE} name: This name is refused.") and "name=bad" in error_row
    assert not Account.objects.exists()
    screenshot(browser, "admin-import-preview.png")

    # Confirm: the job's page, whose bar fills without a reload until the end.
    browser.find_element(By.NAME, "_confirm").click()
    wait_for(lambda: "/import/jobs/" in browser.current_url, timeout=30, what="the job's page")
    job_url = browser.current_url
    browser.execute_script("window.rbeNotReloaded = true;")
    widths, pictured = [], []

    def finished():
        state = browser.execute_script(
            "const bar = document.querySelector('.rbe-progress');"
            "return bar && [bar.getAttribute('data-state'), bar.querySelector('.rbe-progress-bar').style.width,"
            " window.rbeNotReloaded === true];"
        )
        if state:
            widths.append(state)
            if state[0] == "PROGRESS" and 30 < float(state[1][:-1]) < 80 and not pictured:
                pictured.append(screenshot(browser, "admin-import-job.png"))
        return state and state[0] == "SUCCESS" and not state[2]  # the page reloaded once the job ended

    wait_for(finished, timeout=90, interval=0.1, worker=celery_worker, what="the import to finish")
    moving = [float(width[:-1]) for state, width, same_page in widths if same_page and state == "PROGRESS"]
    assert any(0 < width < 100 for width in moving), widths  # seen part-way on the page first shown
    assert text_of(browser, ".rbe-progress-label") == "100%"
    assert browser.current_url == job_url
    assert (text_of(browser, ".rbe-count-success"), text_of(browser, ".rbe-count-failed")) == ("39", "1")
    assert Account.objects.count() == 39

    # errors.csv downloads, with the failing line and its message.
    links = {a.text: a for a in browser.find_elements(By.CSS_SELECTOR, "a.rbe-download")}
    assert set(links) == {"errors.csv", "results.csv"}
    links["errors.csv"].click()
    saved = wait_for(
        lambda: [path for path in downloads.glob("*-errors.csv") if path.stat().st_size], timeout=20, what="errors.csv"
    )
    time.sleep(0.2)  # the download's last write
    lines = saved[0].read_text().splitlines()
    assert lines[0] == "number,name,tenant,error"
    assert len(lines) == 2 and lines[1].startswith(f"b-{BAD_LINE - 2:03d},bad,{tenant.pk},")
    assert "This name is refused." in lines[1]
