"""Serializers for the per-item bulk tests (engine, ``/bulk/`` and jobs).

They keep the validators DRF generates (``UniqueValidator`` on ``ref`` and
``name``, ``UniqueTogetherValidator`` on ``(account, occurred_at)``) so the
engine's chunk-level uniqueness checks are exercised as a user would meet
them.
"""

from decimal import Decimal

from rest_framework import serializers

from tests.testapp.models import Account, CodeItem, Note, Tenant, Txn, UUIDItem


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "name"]


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "tenant", "owner", "name", "number"]


class TxnSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())

    class Meta:
        model = Txn
        fields = ["id", "ref", "account", "amount", "occurred_at", "email", "kind", "description"]
        read_only_fields = ["id"]

    def validate_description(self, value):
        if "forbidden" in value.lower():
            raise serializers.ValidationError("Descriptions may not contain 'forbidden'.")
        return value

    def validate(self, attrs):
        # ``attrs`` holds only the sent fields on a partial update; fall back
        # to the row being updated.
        kind = attrs.get("kind", getattr(self.instance, "kind", "debit"))
        amount = attrs.get("amount", getattr(self.instance, "amount", None))
        if kind == "credit" and amount is not None and amount <= Decimal("0"):
            raise serializers.ValidationError({"amount": ["Credit amounts must be positive."]})
        return attrs


class UUIDItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = UUIDItem
        fields = ["id", "name", "quantity"]


class CodeItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CodeItem
        fields = ["code", "label", "quantity"]


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "account", "text", "updated_at"]
