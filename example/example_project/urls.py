from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import DefaultRouter
from rest_framework.schemas import get_schema_view

from ledger.views import CustomerViewSet, DocumentViewSet, TxnViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet)
router.register("txns", TxnViewSet)
router.register("documents", DocumentViewSet)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("api/", include("rest_bulk_ext.urls")),
    path("api/schema/", get_schema_view(title="rest_bulk_ext example API", version="1.0")),
    path("api-auth/", include("rest_framework.urls")),
]
