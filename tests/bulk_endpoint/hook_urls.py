"""URLs of the hook, signal and soft-delete views, under ``ops-test/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import hook_views

router = DefaultRouter()
router.register("soft-notes", hook_views.SoftNoteViewSet, basename="soft-note")
router.register("forced-soft-notes", hook_views.ForcedSoftNoteViewSet, basename="forced-soft-note")
router.register("hard-notes", hook_views.HardNoteViewSet, basename="hard-note")
router.register("audit-notes", hook_views.AuditNoteViewSet, basename="audit-note")
router.register("slow-audit-notes", hook_views.SlowAuditNoteViewSet, basename="slow-audit-note")
router.register("signalled-notes", hook_views.SignalledAuditNoteViewSet, basename="signalled-note")

urlpatterns = [
    path("ops-test/", include(router.urls)),
]
