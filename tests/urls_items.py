"""URLs for the items tests."""

urlpatterns = []
