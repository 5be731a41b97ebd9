"""Imports every model module so that `Base.metadata` is complete (for autogenerate and checks)."""

from mamori.accounts import models as accounts_models
from mamori.alerts import models as alerts_models
from mamori.audit import models as audit_models
from mamori.cases import models as cases_models
from mamori.incidents import models as incidents_models
from mamori.ingest import models as ingest_models
from mamori.storage.db import Base
from mamori.storage.outbox import OutboxMessage
from mamori.storage.progress import Progress
from mamori.websites import models as websites_models

metadata = Base.metadata

__all__ = [
    "OutboxMessage",
    "Progress",
    "accounts_models",
    "alerts_models",
    "audit_models",
    "cases_models",
    "incidents_models",
    "ingest_models",
    "metadata",
    "websites_models",
]
