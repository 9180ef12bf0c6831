"""The ledger in Django's admin; transactions have the admin import
(``BulkImportAdminMixin``: upload a CSV, preview it, confirm, watch the job)."""

from django.contrib import admin

from rest_bulk_ext.admin import BulkImportAdminMixin

from .models import Customer, Document, Txn


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "is_active")
    search_fields = ("email", "name")


@admin.register(Txn)
class TxnAdmin(BulkImportAdminMixin, admin.ModelAdmin):
    list_display = ("ref", "customer", "amount", "kind", "occurred_at")
    list_filter = ("kind",)
    search_fields = ("ref",)
    # Imports go through the API's viewset: its queryset, serializer,
    # permissions, and the conflict targets it allows for an upsert (ref).
    bulk_import_view = "ledger.views.TxnViewSet"


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "version")
