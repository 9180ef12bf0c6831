"""URLs of the optimistic-concurrency views (``bulk_version_field``), under
``version-test/``: the ``/bulk/``, concurrency and job tests use them."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import version_views

router = DefaultRouter()
router.register("docs", version_views.VersionedDocViewSet, basename="vdoc")
router.register("scoped-docs", version_views.ScopedDocViewSet, basename="vdoc-scoped")
router.register("required-docs", version_views.RequiredVersionDocViewSet, basename="vdoc-required")
router.register("permission-docs", version_views.ObjectPermissionDocViewSet, basename="vdoc-permission")
router.register("writable-docs", version_views.WritableVersionDocViewSet, basename="vdoc-writable")
router.register("plain-docs", version_views.PlainDocViewSet, basename="vdoc-plain")
router.register("stamped-docs", version_views.StampedDocViewSet, basename="sdoc")

urlpatterns = [
    path("version-test/", include(router.urls)),
]
