"""Viewsets for the jobs tests (routed under ``jobs-test/``)."""

import os
import time

from rest_framework import permissions, serializers, viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin
from tests.testapp.models import JobRecord


class JobRecordSerializer(serializers.ModelSerializer):
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

    class Meta:
        model = JobRecord
        fields = ["id", "seq", "label", "owner"]

    def validate_label(self, value):
        if value == "bad":
            raise serializers.ValidationError("This label is refused.")
        return value


class JobRecordViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """The requesting user's records; ``CurrentUserDefault`` sets the owner,
    so a job that lost its user would fail loudly."""

    serializer_class = JobRecordSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["seq", "label"]

    def get_queryset(self):
        return JobRecord.objects.filter(owner=self.request.user)


class SlowJobRecordSerializer(JobRecordSerializer):
    def validate_seq(self, value):
        # Slow enough that a test can act in the middle of a job.
        time.sleep(float(os.environ.get("RBE_SLOW_ITEM_SECONDS", "0.004")))
        return value


class SlowJobRecordViewSet(JobRecordViewSet):
    """Small chunks of slow items, for the cancel and crash tests."""

    serializer_class = SlowJobRecordSerializer
    bulk_test_batch_size = 50

    def get_bulk_context(self, operation, options):
        ctx = super().get_bulk_context(operation, options)
        ctx.batch_size = self.bulk_test_batch_size
        return ctx
