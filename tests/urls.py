"""Root URLconf of the test project: the URLs each test package owns (its
``urls.py``, or ``*_urls.py`` for views several packages use), and the
Django admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("tests.list_route.urls")),
    path("", include("tests.bulk_endpoint.urls")),
    path("", include("tests.jobs.urls")),
    path("", include("tests.bulk_endpoint.hook_urls")),
    path("", include("tests.security.urls")),
    path("", include("tests.bulk_endpoint.version_urls")),
    path("admin/", admin.site.urls),
]
