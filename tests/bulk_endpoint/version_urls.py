"""URLs for the optimistic-concurrency tests, under ``version-test/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

import tests.bulk_endpoint.version_views as views_version

router = DefaultRouter()
router.register("docs", views_version.VersionedDocViewSet, basename="vdoc")
router.register("scoped-docs", views_version.ScopedDocViewSet, basename="vdoc-scoped")
router.register("required-docs", views_version.RequiredVersionDocViewSet, basename="vdoc-required")
router.register("permission-docs", views_version.ObjectPermissionDocViewSet, basename="vdoc-permission")
router.register("writable-docs", views_version.WritableVersionDocViewSet, basename="vdoc-writable")
router.register("plain-docs", views_version.PlainDocViewSet, basename="vdoc-plain")
router.register("stamped-docs", views_version.StampedDocViewSet, basename="sdoc")

urlpatterns = [
    path("version-test/", include(router.urls)),
]
