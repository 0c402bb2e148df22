"""Social-support network analytics: build, profile, stress-test (pure computation).

A tie ``from -> to`` means "from turns to to" (``to`` is one of ``from``'s supporters).
"""

from commonweal.analytics.networks.kinds import SUPPORT_TYPES
from commonweal.analytics.networks.synthetic import support_network

__all__ = ["SUPPORT_TYPES", "support_network"]
