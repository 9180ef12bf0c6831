"""URLs for the jobs tests: the job endpoints under ``api/``, the test
viewsets under ``jobs-test/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

import tests.jobs.views as views_jobs

router = DefaultRouter()
router.register("records", views_jobs.JobRecordViewSet, basename="job-record")
router.register("slow-records", views_jobs.SlowJobRecordViewSet, basename="slow-job-record")

urlpatterns = [
    path("api/", include("rest_bulk_ext.urls")),
    path("jobs-test/", include(router.urls)),
]
