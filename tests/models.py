"""Test models. Each area keeps its models in its own module, collected here
so they all belong to the ``tests`` app."""

from .models_queryset import *  # noqa: F401,F403
from .models_items import *  # noqa: F401,F403
from .models_jobs import *  # noqa: F401,F403
from .models_operations import *  # noqa: F401,F403
from .models_version import *  # noqa: F401,F403
