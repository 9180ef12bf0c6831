"""A project that routes only the list-route mixins (as the quickstart's
first part does): the startup checks ask nothing of it about jobs."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from tests.list_route import views as list_route_views

router = DefaultRouter()
router.register("members", list_route_views.MemberViewSet, basename="checks-member")

urlpatterns = [path("api/", include(router.urls))]
