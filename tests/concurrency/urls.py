"""URLconf of the concurrency tests (``pytest.mark.urls``)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("txns", views.ConcurrentTxnViewSet, basename="cc-txn")
router.register("deadlock-txns", views.DeadlockTxnViewSet, basename="cc-deadlock-txn")
router.register("small-chunk-txns", views.SmallChunkTxnViewSet, basename="cc-small-chunk-txn")

urlpatterns = [path("cc/", include(router.urls)), path("", include("tests.urls"))]
