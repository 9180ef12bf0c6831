from django.apps import AppConfig


class RestBulkExtConfig(AppConfig):
    name = "rest_bulk_ext"
    verbose_name = "REST bulk operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .checks import register_checks

        register_checks()
