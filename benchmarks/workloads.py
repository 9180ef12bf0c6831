"""
Benchmark workloads: each one is measured twice, through rest_bulk_ext's API
(``ours``) and with the raw ORM on prepared objects (``floor``), on the same
database, in fresh processes.

Every workload has a ``setup(n)`` that prepares rows (not timed), an
``ours(client, n, state)`` and a ``floor(n, state)`` (timed), and a
``check(n, state)`` that proves the work was done.
"""

import csv
import io
import json
from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

from tests.testapp.models import Account, Tenant, Txn

BASE_TIME = datetime(2026, 1, 1, tzinfo=dt_timezone.utc)
KINDS = ("debit", "credit")


def make_accounts(count=10):
    tenant = Tenant.objects.create(name="bench")
    return list(
        Account.objects.bulk_create(
            Account(tenant=tenant, name=f"acc{i}", number=f"N{i:06d}") for i in range(count)
        )
    )


def item(i, accounts, prefix="R"):
    return {
        "ref": f"{prefix}{i:07d}",
        "account": accounts[i % len(accounts)].pk,
        "amount": f"{(i % 5000) + 1}.25",
        "occurred_at": (BASE_TIME + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
        "email": f"user{i}@example.com",
        "kind": KINDS[i % 2],
        "description": f"row {i}",
    }


def txn(i, accounts, prefix="R"):
    return Txn(
        ref=f"{prefix}{i:07d}",
        account=accounts[i % len(accounts)],
        amount=Decimal(f"{(i % 5000) + 1}.25"),
        occurred_at=BASE_TIME + timedelta(seconds=i),
        email=f"user{i}@example.com",
        kind=KINDS[i % 2],
        description=f"row {i}",
    )


def seed(n, accounts):
    Txn.objects.bulk_create((txn(i, accounts) for i in range(n)), batch_size=1000)
    return list(Txn.objects.order_by("pk").values_list("pk", flat=True))


def post_json(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def expect(response, *codes):
    if response.status_code not in codes:
        raise RuntimeError(f"{response.status_code}: {response.content[:500]!r}")
    return response


class Create:
    """The body is encoded before the timed section (``before_ours``, called
    by ``measure.py``): what a client holds is its JSON text, as
    ``csv_create``'s is its file (encoding 100,000 items was 5 % of the timed
    request, paid by no server). ``setup`` keeps the items for the other
    scripts that build their payloads from them (``jobs_e2e.py``)."""

    name = "create"

    def setup(self, n):
        accounts = make_accounts()
        return {"accounts": accounts, "items": [item(i, accounts) for i in range(n)]}

    def before_ours(self, state):
        if "items" in state:  # not csv_create's file
            state["body"] = json.dumps(state.pop("items"))

    def ours(self, client, n, state):
        body = state.pop("body")
        expect(client.post("/bench/txns/bulk/", body, content_type="application/json"), 201)

    def floor(self, n, state):
        Txn.objects.bulk_create([txn(i, state["accounts"]) for i in range(n)], batch_size=1000)

    def check(self, n, state):
        assert Txn.objects.count() == n


class CsvCreate(Create):
    name = "csv_create"

    def setup(self, n):
        # The upload is what a client holds, not the parsed rows: written
        # row by row, so the process's peak memory (ru_maxrss, reported as
        # "ours peak MB") is not set by a list of n dicts built here.
        accounts = make_accounts()
        buffer = io.BytesIO()
        text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        writer = csv.DictWriter(text, fieldnames=list(item(0, accounts)))
        writer.writeheader()
        writer.writerows(item(i, accounts) for i in range(n))
        text.flush()
        return {"accounts": accounts, "csv": buffer.getvalue()}

    def ours(self, client, n, state):
        upload = io.BytesIO(state["csv"])
        upload.name = "txns.csv"
        state.pop("csv")
        expect(client.post("/bench/txns/bulk/", {"file": upload}, format="multipart"), 201)


class PartialUpdate:
    """Per-row values: every row gets its own amount and description."""

    name = "partial_update"

    def setup(self, n):
        accounts = make_accounts()
        pks = seed(n, accounts)
        return {"pks": pks, "items": [{"id": pk, "amount": f"{i + 7}.50", "description": f"new {i}"}
                                      for i, pk in enumerate(pks)]}

    def ours(self, client, n, state):
        expect(post_json(client, "patch", "/bench/txns/bulk/", state["items"]), 200)

    def floor(self, n, state):
        objs = [Txn(pk=pk, amount=Decimal(f"{i + 7}.50"), description=f"new {i}") for i, pk in enumerate(state["pks"])]
        Txn.objects.bulk_update(objs, ["amount", "description"], batch_size=1000)

    def check(self, n, state):
        assert Txn.objects.filter(description__startswith="new ").count() == n


class Replace:
    name = "replace"

    def setup(self, n):
        accounts = make_accounts()
        pks = seed(n, accounts)
        items = []
        for i, pk in enumerate(pks):
            row = item(i, accounts)
            row.update(id=pk, description=f"new {i}", amount=f"{i + 3}.00")
            items.append(row)
        return {"accounts": accounts, "pks": pks, "items": items}

    def ours(self, client, n, state):
        expect(post_json(client, "put", "/bench/txns/bulk/", state["items"]), 200)

    def floor(self, n, state):
        objs = []
        for i, pk in enumerate(state["pks"]):
            obj = txn(i, state["accounts"])
            obj.pk, obj.description, obj.amount = pk, f"new {i}", Decimal(f"{i + 3}.00")
            objs.append(obj)
        fields = ["ref", "account", "amount", "occurred_at", "email", "kind", "description"]
        Txn.objects.bulk_update(objs, fields, batch_size=1000)

    check = PartialUpdate.check


class Upsert:
    """Half the rows exist (matched on ``ref``), half are new."""

    name = "upsert"

    def setup(self, n):
        accounts = make_accounts()
        seed(n // 2, accounts)
        items = [dict(item(i, accounts), description=f"new {i}") for i in range(n)]
        return {"accounts": accounts, "items": items}

    def ours(self, client, n, state):
        expect(post_json(client, "patch", "/bench/txns/bulk/?unique_fields=ref", state["items"]), 200)

    def floor(self, n, state):
        objs = []
        for i in range(n):
            obj = txn(i, state["accounts"])
            obj.description = f"new {i}"
            objs.append(obj)
        Txn.objects.bulk_create(
            objs, batch_size=1000, update_conflicts=True, unique_fields=["ref"],
            update_fields=["account", "amount", "occurred_at", "email", "kind", "description"],
        )

    check = PartialUpdate.check


class DeleteByIds:
    name = "delete_ids"

    def setup(self, n):
        return {"pks": seed(n, make_accounts())}

    def ours(self, client, n, state):
        expect(post_json(client, "delete", "/bench/txns/bulk/", state["pks"]), 200)

    def floor(self, n, state):
        pks = state["pks"]
        for start in range(0, n, 1000):
            Txn.objects.filter(pk__in=pks[start:start + 1000]).delete()

    def check(self, n, state):
        assert not Txn.objects.exists()


class QuerysetPatch:
    name = "queryset_patch"
    # The list route the request (and the warm-up, benchmarks/measure.py) goes to.
    path = "/bench/txns/"

    def setup(self, n):
        seed(n, make_accounts())
        return {}

    def ours(self, client, n, state):
        response = client.patch(f"{self.path}?kind=debit", json.dumps({"description": "patched"}),
                                content_type="application/json", HTTP_X_BULK_OPERATION="true")
        expect(response, 204)

    def floor(self, n, state):
        Txn.objects.filter(kind="debit").update(description="patched")

    def check(self, n, state):
        assert Txn.objects.filter(description="patched").count() == (n + 1) // 2


class QuerysetDelete:
    name = "queryset_delete"
    path = "/bench/txns/"

    def setup(self, n):
        seed(n, make_accounts())
        return {}

    def ours(self, client, n, state):
        expect(client.delete(f"{self.path}?kind=debit", HTTP_X_BULK_OPERATION="true"), 204)

    def floor(self, n, state):
        Txn.objects.filter(kind="debit").delete()

    def check(self, n, state):
        assert Txn.objects.count() == n // 2


class QuerysetPatchDrfMinimum(QuerysetPatch):
    """A reference, not ours: the ``queryset_patch`` request answered by the
    least a plain DRF view does for it (``benchmarks/urls.py``,
    ``DrfMinimumTxnList``: django-filter, the serializer's field validation,
    one ``update()``), against the same floor. What any list-route PATCH
    through DRF costs above ``QuerySet.update()``."""

    name = "queryset_patch_drf_minimum"
    path = "/bench/drf-minimum/txns/"


class QuerysetDeleteDrfMinimum(QuerysetDelete):
    """The same reference for ``queryset_delete``: django-filter and one
    ``delete()`` in a plain DRF view."""

    name = "queryset_delete_drf_minimum"
    path = "/bench/drf-minimum/txns/"


class CreateVsCopy(Create):
    """The create workload against a second, lower floor (PostgreSQL only):
    psycopg's ``COPY`` of the same rows straight into the table, no ORM,
    no returned keys."""

    name = "create_vs_copy"
    postgres_only = True

    def floor(self, n, state):
        from django.db import connection, transaction

        accounts = state["accounts"]
        columns = ("ref", "account_id", "amount", "occurred_at", "email", "kind", "description")
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY tests_txn ({', '.join(columns)}) FROM STDIN") as copy:
                for i in range(n):
                    copy.write_row((
                        f"R{i:07d}", accounts[i % len(accounts)].pk, Decimal(f"{(i % 5000) + 1}.25"),
                        BASE_TIME + timedelta(seconds=i), f"user{i}@example.com", KINDS[i % 2], f"row {i}",
                    ))



class CreateVsExecutemany(Create):
    """The create workload against the raw driver load on SQLite (SQLite
    only), the counterpart of ``create_vs_copy``: sqlite3's
    ``executemany`` of the same rows, each built in the timed section as a
    tuple of the values Django stores (text for the decimal and for the
    datetime, naive UTC), in one transaction, no ORM, no returned keys."""

    name = "create_vs_executemany"
    sqlite_only = True

    def floor(self, n, state):
        from django.db import connection, transaction

        accounts = state["accounts"]
        columns = ("ref", "account_id", "amount", "occurred_at", "email", "kind", "description")
        sql = f"INSERT INTO tests_txn ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})"
        naive_base = BASE_TIME.replace(tzinfo=None)
        with transaction.atomic():
            connection.ensure_connection()
            raw = connection.connection.cursor()
            raw.executemany(sql, (
                (
                    f"R{i:07d}", accounts[i % len(accounts)].pk, str(Decimal(f"{(i % 5000) + 1}.25")),
                    str(naive_base + timedelta(seconds=i)), f"user{i}@example.com", KINDS[i % 2], f"row {i}",
                )
                for i in range(n)
            ))  # fmt: skip

WORKLOADS = {w.name: w for w in (Create(), PartialUpdate(), Replace(), Upsert(), DeleteByIds(),
                                 QuerysetPatch(), QuerysetPatchDrfMinimum(), QuerysetDelete(),
                                 QuerysetDeleteDrfMinimum(), CsvCreate(), CreateVsCopy(),
                                 CreateVsExecutemany())}

# The raw-ORM floor each workload is compared with, as named in the table.
FLOOR_NAMES = {
    "create": "bulk_create",
    "create_vs_copy": "raw psycopg COPY",
    "create_vs_executemany": "raw sqlite3 executemany",
    "csv_create": "bulk_create",
    "partial_update": "bulk_update",
    "replace": "bulk_update",
    "upsert": "bulk_create(update_conflicts)",
    "delete_ids": "QuerySet.delete",
    "queryset_patch": "QuerySet.update",
    "queryset_patch_drf_minimum": "QuerySet.update",
    "queryset_delete": "QuerySet.delete",
    "queryset_delete_drf_minimum": "QuerySet.delete",
}
