"""Root URLconf of the test project; each area owns one included module."""

from django.urls import include, path

urlpatterns = [
    path("", include("tests.list_route.urls")),
    path("", include("tests.bulk_endpoint.urls")),
    path("", include("tests.jobs.urls")),
    path("", include("tests.bulk_endpoint.hook_urls")),
    path("", include("tests.security.urls")),
    path("", include("tests.bulk_endpoint.version_urls")),
]
