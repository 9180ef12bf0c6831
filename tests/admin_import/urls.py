"""URLs of the admin import tests: the test admin sites, the viewsets as an
API (so requests and jobs carry the routed path) and the job routes."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views
from .admin import site, slow_site

router = DefaultRouter()
router.register("accounts", views.AccountImportViewSet, basename="import-account")
router.register("slow-accounts", views.SlowAccountImportViewSet, basename="slow-import-account")

urlpatterns = [
    path("import-admin/", site.urls),
    path("slow-import-admin/", slow_site.urls),
    path("import-api/", include(router.urls)),
    path("api/", include("rest_bulk_ext.urls")),
]
