"""
The job URLs of docs/jobs.md. Include them under any prefix, without a
namespace (the 202 answers reverse ``bulk-operation-status``)::

    path("api/", include("rest_bulk_ext.urls")),
"""

from django.urls import path

from .jobs import views

urlpatterns = [
    path("bulk-operations/", views.BulkJobListView.as_view(), name="bulk-operation-list"),
    path("bulk-operations/<str:task_id>/", views.BulkJobDetailView.as_view(), name="bulk-operation-detail"),
    path(
        "bulk-operations/<str:task_id>/status/", views.BulkJobStatusView.as_view(), name="bulk-operation-status"
    ),
    path(
        "bulk-operations/<str:task_id>/errors.csv",
        views.BulkJobErrorsCSVView.as_view(),
        name="bulk-operation-errors",
    ),
    path(
        "bulk-operations/<str:task_id>/results.csv",
        views.BulkJobResultsCSVView.as_view(),
        name="bulk-operation-results",
    ),
    path(
        "bulk-operations/<str:task_id>/download",
        views.BulkJobDownloadView.as_view(),
        name="bulk-operation-download",
    ),
]
