"""Serializers of the job endpoints (they also document them in schemas)."""

from rest_framework import serializers

from .dispatch import status_url
from .models import BulkJob, BulkJobState


class BulkJobSerializer(serializers.ModelSerializer):
    """One job in the owner's job list."""

    status_url = serializers.SerializerMethodField()

    class Meta:
        model = BulkJob
        fields = [
            "task_id",
            "operation_type",
            "state",
            "total_items",
            "success_count",
            "error_count",
            "created_at",
            "finished_at",
            "status_url",
        ]
        read_only_fields = fields

    def get_status_url(self, job) -> str:
        return status_url(job.task_id)


class BulkJobProgressSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    total = serializers.IntegerField()
    percentage = serializers.FloatField()
    message = serializers.CharField()


class BulkJobStatusSerializer(serializers.Serializer):
    """The status body; ``result`` is the result of docs/bulk-endpoint.md once the job
    has ended, else ``null``."""

    task_id = serializers.CharField()
    state = serializers.ChoiceField(choices=BulkJobState.choices)
    status = serializers.CharField()
    progress = BulkJobProgressSerializer()
    result = serializers.JSONField(allow_null=True)
