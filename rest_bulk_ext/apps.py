from django.apps import AppConfig


class RestBulkExtConfig(AppConfig):
    name = "rest_bulk_ext"
    verbose_name = "REST bulk operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete

        from .checks import register_checks
        from .jobs.exports import remove_export_file

        register_checks()
        post_delete.connect(remove_export_file, sender="rest_bulk_ext.BulkJob", dispatch_uid="rbe-export-file")
