import pytest
from rest_framework.test import APIRequestFactory

from rest_bulk_ext.utils import header_is_true, prepare_header_name


def test_prepare_header_name_gives_the_meta_key():
    assert prepare_header_name("X-BULK-OPERATION") == "HTTP_X_BULK_OPERATION"
    assert prepare_header_name("x-bulk-dry-run") == "HTTP_X_BULK_DRY_RUN"


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", "On", " true "])
def test_truthy_header_values_are_accepted(value):
    request = APIRequestFactory().get("/", HTTP_X_BULK_OPERATION=value)
    assert header_is_true(request, "X-BULK-OPERATION")


@pytest.mark.parametrize("value", ["", "false", "0", "no", "off", "maybe"])
def test_other_header_values_are_refused(value):
    request = APIRequestFactory().get("/", HTTP_X_BULK_OPERATION=value)
    assert not header_is_true(request, "X-BULK-OPERATION")
