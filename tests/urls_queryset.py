"""URLs for the queryset tests."""

urlpatterns = []
