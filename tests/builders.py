"""Shared data builders for the ``/bulk/`` endpoint tests."""

import datetime
from decimal import Decimal

from .models_items import Account, Tenant, Txn

BASE_TIME = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def make_account(number="ACC-1", owner=None, tenant_name="tenant"):
    tenant, _ = Tenant.objects.get_or_create(name=tenant_name)
    return Account.objects.create(tenant=tenant, owner=owner, name=number, number=number)


def txn_data(account, n, **overrides):
    """A valid JSON item for TxnSerializer; ``n`` makes it unique."""
    data = {
        "ref": f"ref-{n}",
        "account": account.pk,
        "amount": f"{n}.50",
        "occurred_at": (BASE_TIME + datetime.timedelta(minutes=n)).isoformat(),
        "email": f"user{n}@example.com",
        "kind": "debit",
        "description": f"row {n}",
    }
    data.update(overrides)
    return data


def make_txns(account, count, start=0, **overrides):
    rows = [
        Txn(
            ref=f"ref-{n}",
            account=account,
            amount=Decimal(f"{n}.50"),
            occurred_at=BASE_TIME + datetime.timedelta(minutes=n),
            email=f"user{n}@example.com",
            kind="debit",
            description=f"row {n}",
        )
        for n in range(start, start + count)
    ]
    for row in rows:
        for key, value in overrides.items():
            setattr(row, key, value)
    Txn.objects.bulk_create(rows)
    return list(Txn.objects.filter(ref__in=[row.ref for row in rows]).order_by("id"))


# The inline path is under test here; background jobs have their own tests.
INLINE = {"BULK_ASYNC_THRESHOLD": 1_000_000}
