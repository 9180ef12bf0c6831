"""A project that routes only the list-route mixins (as the quickstart's
first part does): the startup checks ask nothing of it about jobs."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

import tests.list_route.views as views_queryset

router = DefaultRouter()
router.register("members", views_queryset.MemberViewSet, basename="checks-member")

urlpatterns = [path("api/", include(router.urls))]
