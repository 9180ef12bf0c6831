"""The viewset the admin import tests send files through."""

from rest_framework import permissions, serializers, viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin
from tests.testapp.models import Account


class AccountImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "number", "name", "tenant"]

    def validate_name(self, value):
        if value == "bad":
            raise serializers.ValidationError("This name is refused.")
        return value


class AccountImportViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """Model permissions (add for a create, change and add for an upsert)
    and a queryset that hides accounts numbered ``hidden-…``: rows the admin
    import may not see or touch."""

    serializer_class = AccountImportSerializer
    permission_classes = [permissions.DjangoModelPermissions]
    bulk_upsert_unique_fields = [("number",)]

    def get_queryset(self):
        return Account.objects.exclude(number__startswith="hidden-")


class SlowAccountImportViewSet(AccountImportViewSet):
    """Chunks of 5 rows, each chunk taking a moment: a bar that visibly moves."""

    def get_bulk_context(self, operation, options):
        ctx = super().get_bulk_context(operation, options)
        ctx.batch_size = 5
        return ctx

    def bulk_chunk_written(self, operation, chunk):
        import time

        time.sleep(0.3)
