"""Root URLconf of the test project; each area owns one included module."""

from django.urls import include, path

urlpatterns = [
    path("", include("tests.urls_queryset")),
    path("", include("tests.urls_items")),
    path("", include("tests.urls_jobs")),
    path("", include("tests.urls_operations")),
    path("", include("tests.urls_security")),
    path("", include("tests.urls_version")),
]
