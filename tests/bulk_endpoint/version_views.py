"""Viewsets with a version field (``bulk_version_field``), routed under
``version-test/`` by version_urls.py."""

from rest_framework import permissions, serializers, viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin, ListUpdateModelMixin
from tests.testapp.models import StampedDoc, VersionedDoc


class VersionedDocSerializer(serializers.ModelSerializer):
    class Meta:
        model = VersionedDoc
        fields = ["id", "title", "body", "version"]
        read_only_fields = ["version"]


class VersionedDocViewSet(BulkOperationsMixin, ListUpdateModelMixin, viewsets.ModelViewSet):
    queryset = VersionedDoc.objects.all()
    serializer_class = VersionedDocSerializer
    permission_classes = [permissions.AllowAny]
    filterset_fields = ["title"]
    bulk_version_field = "version"


class ScopedDocViewSet(VersionedDocViewSet):
    """Only documents whose title starts with ``a``: others are not found."""

    def get_queryset(self):
        return VersionedDoc.objects.filter(title__startswith="a")


class RequiredVersionDocViewSet(VersionedDocViewSet):
    bulk_require_version = True


class ObjectPermissionDocViewSet(VersionedDocViewSet):
    """Deletes go through the lookup path (object permissions)."""

    class AnyObject(permissions.AllowAny):
        def has_object_permission(self, request, view, obj):
            return True

    permission_classes = [AnyObject]


class WritableVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = VersionedDoc
        fields = ["id", "title", "body", "version"]


class WritableVersionDocViewSet(VersionedDocViewSet):
    """A serializer that accepts ``version``: still compared, never written."""

    serializer_class = WritableVersionSerializer


class StampedDocSerializer(serializers.ModelSerializer):
    class Meta:
        model = StampedDoc
        fields = ["id", "title", "updated_at"]


class StampedDocViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = StampedDoc.objects.all()
    serializer_class = StampedDocSerializer
    permission_classes = [permissions.AllowAny]
    bulk_version_field = "updated_at"


class PlainDocViewSet(VersionedDocViewSet):
    """The same model without a version check: the query-count baseline."""

    bulk_version_field = None
