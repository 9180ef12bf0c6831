"""Safe, fast bulk operations for Django REST Framework."""

__version__ = "0.1.0"
