from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """The test models' app. Its label stays ``tests``, the label the models
    had when they lived at the root of ``tests/``: the table names
    (``tests_txn``, ...), the migrations and the permissions' app label keep
    it."""

    name = "tests.testapp"
    label = "tests"
    default_auto_field = "django.db.models.BigAutoField"
