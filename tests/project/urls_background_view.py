"""A project whose one ``BulkOperationsMixin`` view decides for itself when
to run in the background, with the job URLs included: the startup checks
apply to it even with ``BULK_ASYNC_THRESHOLD = None``."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tests.bulk_endpoint import views as bulk_endpoint_views


class AlwaysInBackgroundTxnViewSet(bulk_endpoint_views.TxnViewSet):
    def should_run_bulk_async(self, bulk_request):
        return True


router = SimpleRouter()
router.register("txns", AlwaysInBackgroundTxnViewSet, basename="checks-txn")

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/", include("rest_bulk_ext.urls")),
]
