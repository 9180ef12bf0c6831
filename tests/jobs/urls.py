"""URLs for the jobs tests: the job endpoints under ``api/``, the test
viewsets under ``jobs-test/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("records", views.JobRecordViewSet, basename="job-record")
router.register("slow-records", views.SlowJobRecordViewSet, basename="slow-job-record")

urlpatterns = [
    path("api/", include("rest_bulk_ext.urls")),
    path("jobs-test/", include(router.urls)),
]
