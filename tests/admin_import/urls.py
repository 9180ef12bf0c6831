"""URLs of the admin import tests: the test admin site and the job routes."""

from django.urls import include, path

from .admin import site, slow_site

urlpatterns = [
    path("import-admin/", site.urls),
    path("slow-import-admin/", slow_site.urls),
    path("api/", include("rest_bulk_ext.urls")),
]
