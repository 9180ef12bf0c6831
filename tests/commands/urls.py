"""The command tests' URLconf: their viewsets and the job URLs."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("txns", views.TxnViewSet, basename="shell-txn")
router.register("own-txns", views.OwnTxnViewSet, basename="shell-own-txn")

urlpatterns = [
    path("shell/", include(router.urls)),
    path("api/", include("rest_bulk_ext.urls")),
]
