"""Views and URLconf of the ``/bulk/`` input tests (``pytest.mark.urls``):
the test project's routes plus views that turn the strict parameter check
off, accept extra names, version by query parameter, or list a read-only
field as an upsert target."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter
from rest_framework.versioning import QueryParameterVersioning

from tests.bulk_endpoint.views import TxnViewSet


class LenientTxnViewSet(TxnViewSet):
    bulk_strict_query_params = False


class StrictTxnViewSet(TxnViewSet):
    """Strict whatever ``BULK_STRICT_QUERY_PARAMS`` says."""

    bulk_strict_query_params = True


class TokenTxnViewSet(TxnViewSet):
    """Reads ``?token=`` itself (as an authentication class might)."""

    bulk_allowed_query_params = ["token"]


class VersionedApiTxnViewSet(TxnViewSet):
    versioning_class = QueryParameterVersioning


class ReadOnlyTargetTxnViewSet(TxnViewSet):
    """Lists the primary key, read-only in ``TxnSerializer``, as a target."""

    bulk_upsert_unique_fields = [("id",), ("ref",)]


router = DefaultRouter()
router.register("lenient-txns", LenientTxnViewSet, basename="strict-lenient-txn")
router.register("strict-txns", StrictTxnViewSet, basename="strict-strict-txn")
router.register("token-txns", TokenTxnViewSet, basename="strict-token-txn")
router.register("versioned-api-txns", VersionedApiTxnViewSet, basename="strict-versioned-txn")
router.register("read-only-target-txns", ReadOnlyTargetTxnViewSet, basename="strict-read-only-target-txn")

urlpatterns = [path("input/", include(router.urls)), path("", include("tests.urls"))]
