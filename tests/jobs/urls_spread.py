"""URLs of the spread-job tests: the job endpoints, the jobs-test viewsets
and this package's own."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from tests import urls_jobs

from . import views_spread

router = DefaultRouter()
router.register("txns", views_spread.SpreadTxnViewSet, basename="spread-txn")
router.register("unchecked-txns", views_spread.UncheckedSpreadTxnViewSet, basename="spread-unchecked-txn")
router.register("uuid-items", views_spread.SpreadUUIDItemViewSet, basename="spread-uuid-item")

urlpatterns = [*urls_jobs.urlpatterns, path("spread/", include(router.urls))]
