"""URLs for the jobs tests."""

urlpatterns = []
