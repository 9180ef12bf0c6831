from rest_framework import serializers

from .models import Customer, Document, Txn


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "email", "name", "is_active"]


class TxnSerializer(serializers.ModelSerializer):
    class Meta:
        model = Txn
        fields = ["id", "ref", "customer", "amount", "occurred_at", "kind"]

    def validate_amount(self, value):
        if value == 0:
            raise serializers.ValidationError("A transaction moves money: amount cannot be 0.")
        return value


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "title", "body", "version"]
        # Compared by the bulk endpoint, set by the server: never written.
        read_only_fields = ["version"]
