"""URLs for the operations tests: test viewsets under ``ops-test/`` and the
Django admin under ``admin/``."""

from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import DefaultRouter

import tests.bulk_endpoint.hook_views as views_operations

router = DefaultRouter()
router.register("soft-notes", views_operations.SoftNoteViewSet, basename="soft-note")
router.register("forced-soft-notes", views_operations.ForcedSoftNoteViewSet, basename="forced-soft-note")
router.register("hard-notes", views_operations.HardNoteViewSet, basename="hard-note")
router.register("audit-notes", views_operations.AuditNoteViewSet, basename="audit-note")
router.register("slow-audit-notes", views_operations.SlowAuditNoteViewSet, basename="slow-audit-note")
router.register("signalled-notes", views_operations.SignalledAuditNoteViewSet, basename="signalled-note")

urlpatterns = [
    path("ops-test/", include(router.urls)),
    path("admin/", admin.site.urls),
]
