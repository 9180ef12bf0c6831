"""Views and URLconf of the strict ``/bulk/`` parameter tests
(``pytest.mark.urls``): the test project's routes plus views that turn the
check off, accept extra names or version by query parameter."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter
from rest_framework.versioning import QueryParameterVersioning

from tests.views_items import TxnViewSet


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


router = DefaultRouter()
router.register("lenient-txns", LenientTxnViewSet, basename="strict-lenient-txn")
router.register("strict-txns", StrictTxnViewSet, basename="strict-strict-txn")
router.register("token-txns", TokenTxnViewSet, basename="strict-token-txn")
router.register("versioned-api-txns", VersionedApiTxnViewSet, basename="strict-versioned-txn")

urlpatterns = [path("strict/", include(router.urls)), path("", include("tests.urls"))]
