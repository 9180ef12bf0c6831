"""URLs for the ``/bulk/`` endpoint tests, under ``items/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("txns", views.TxnViewSet, basename="txn")
router.register("scoped-txns", views.ScopedTxnViewSet, basename="scoped-txn")
router.register("locked-txns", views.ObjectPermissionTxnViewSet, basename="locked-txn")
router.register("unchecked-txns", views.UncheckedObjectPermissionTxnViewSet, basename="unchecked-txn")
router.register("perm-txns", views.ModelPermissionTxnViewSet, basename="perm-txn")
router.register("filterclass-txns", views.FilterClassTxnViewSet, basename="filterclass-txn")
router.register("exact-txns", views.ExactOnlyTxnViewSet, basename="exact-txn")
router.register("model-unique-txns", views.ModelUniqueTxnViewSet, basename="model-unique-txn")
router.register("linked-txns", views.LinkedTxnViewSet, basename="linked-txn")
router.register("uuid-items", views.UUIDItemViewSet, basename="uuid-item")
router.register("code-items", views.CodeItemViewSet, basename="code-item")

urlpatterns = [
    path("items/", include(router.urls)),
]
