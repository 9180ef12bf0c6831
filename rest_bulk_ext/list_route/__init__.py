"""The queryset-level PATCH and DELETE on a viewset's list route."""
