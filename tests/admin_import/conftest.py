"""Users, files and the client of the admin import tests."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.testapp.models import Account, Tenant

ADMIN = "/import-admin/tests/account/"
IMPORT = ADMIN + "import/"


@pytest.fixture(autouse=True)
def import_urls(settings):
    settings.ROOT_URLCONF = "tests.admin_import.urls"


def remove_stored_uploads():
    from rest_bulk_ext.admin_import.previews import PREVIEW_DIRECTORY
    from rest_bulk_ext.jobs.payloads import get_payload_storage

    storage = get_payload_storage()
    try:
        names = storage.listdir(PREVIEW_DIRECTORY)[1]
    except OSError:  # no directory yet, or a test's storage that cannot hold one
        return
    for name in names:
        storage.delete(f"{PREVIEW_DIRECTORY}/{name}")


@pytest.fixture(autouse=True)
def no_stored_uploads():
    """Each test starts and ends with no stored preview upload (the run's
    media directory outlives a test)."""
    remove_stored_uploads()
    yield
    remove_stored_uploads()


def staff_with(username, *codenames):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="tests", codename__in=codenames))
    return user


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(name="acme")


@pytest.fixture
def clerk(db):
    """Staff who may add accounts (not change them)."""
    return staff_with("clerk", "add_account", "view_account")


@pytest.fixture
def manager(db):
    """Staff who may add and change accounts: the upsert too."""
    return staff_with("manager", "add_account", "change_account", "view_account")


@pytest.fixture
def viewer(db):
    """Staff who may only look at accounts."""
    return staff_with("viewer", "view_account")


def csv_file(rows, name="accounts.csv", header="number,name,tenant"):
    body = "\n".join([header, *(",".join(str(value) for value in row) for row in rows)]) + "\n"
    return SimpleUploadedFile(name, body.encode(), content_type="text/csv")


def form(file, target="create", atomic=False, **extra):
    data = {"file": file, "target": target, **extra}
    if atomic:
        data["atomic"] = "on"
    return data


def account_numbers():
    return sorted(Account.objects.values_list("number", flat=True))
