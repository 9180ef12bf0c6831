"""The data builders of the tests: rows, JSON items, users and clients."""

import datetime
from decimal import Decimal

from rest_framework.test import APIClient

from tests.testapp.models import Account, Member, Tenant, Txn

BASE_TIME = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def make_account(number="ACC-1", owner=None, tenant_name="tenant"):
    tenant, _ = Tenant.objects.get_or_create(name=tenant_name)
    return Account.objects.create(tenant=tenant, owner=owner, name=number, number=number)


def txn_data(account, n, /, **overrides):
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


def make_bare_txns(account, count, start=0):
    """Rows with only the required fields set (``amount`` = ``n``, no
    ``kind`` or ``description``), in one ``bulk_create``."""
    return Txn.objects.bulk_create(
        [
            Txn(
                ref=f"ref-{n}",
                account=account,
                amount=Decimal(n),
                occurred_at=BASE_TIME + datetime.timedelta(minutes=n),
                email=f"user{n}@example.com",
            )
            for n in range(start, start + count)
        ]
    )


def make_txns(account, count, start=0, **overrides):
    """Rows whose fields match ``txn_data(account, n)``."""
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


def make_member(organization, username, email, **fields):
    return Member.objects.create(organization=organization, username=username, email=email, **fields)


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client
