"""URLs for the queryset-level (list route) tests, under ``qs/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("members", views.MemberViewSet, basename="member")
router.register("owned-members", views.OwnedMemberViewSet, basename="owned-member")
router.register("unchecked-members", views.UncheckedOwnedMemberViewSet, basename="unchecked-member")
router.register("perm-members", views.ModelPermissionMemberViewSet, basename="perm-member")
router.register("hooked-members", views.HookedMemberViewSet, basename="hooked-member")
router.register("projects", views.ProjectViewSet, basename="project")

urlpatterns = [
    path("qs/", include(router.urls)),
]

# Only for the schema tests (``SchemaGenerator(patterns=schema_urlpatterns)``):
# viewsets whose filter backend DRF's generator can read.
schema_router = DefaultRouter()
schema_router.register("members", views.SchemaMemberViewSet, basename="schema-member")
schema_router.register("projects", views.SchemaProjectViewSet, basename="schema-project")

schema_urlpatterns = [
    path("qs-schema/", include(schema_router.urls)),
]
urlpatterns += schema_urlpatterns
