"""An admin site of its own for the import tests (``import-admin/``)."""

from django.contrib import admin

from rest_bulk_ext.admin import BulkImportAdminMixin
from tests.testapp.models import Account

site = admin.AdminSite(name="import_admin")


class AccountAdmin(BulkImportAdminMixin, admin.ModelAdmin):
    list_display = ("number", "name", "tenant")
    bulk_import_view = "tests.admin_import.views.AccountImportViewSet"


site.register(Account, AccountAdmin)

# The browser test's site: the same admin over a slow viewset (a bar that
# visibly moves).
slow_site = admin.AdminSite(name="slow_import_admin")


class SlowAccountAdmin(AccountAdmin):
    bulk_import_view = "tests.admin_import.views.SlowAccountImportViewSet"


slow_site.register(Account, SlowAccountAdmin)
