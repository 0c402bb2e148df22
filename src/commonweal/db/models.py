"""Import every table module so ``Base.metadata`` is complete (Alembic and tests use this)."""

from commonweal.auth import models as auth_models
from commonweal.checkins import models as checkins_models  # noqa: F401
from commonweal.db.base import Base
from commonweal.indicators import models as indicators_models  # noqa: F401
from commonweal.mutual_aid import models as mutual_aid_models  # noqa: F401
from commonweal.registry import models as registry_models
from commonweal.surveys import models as surveys_models  # noqa: F401

__all__ = ["Base", "auth_models", "registry_models"]
