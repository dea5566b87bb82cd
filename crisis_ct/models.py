"""Every module's tables, imported in one place so the metadata is complete
(migrations, test clean-up)."""
from crisis_ct.accounts import models as accounts_models  # noqa: F401
from crisis_ct.geography import models as geography_models  # noqa: F401
from crisis_ct.jobs import models as jobs_models  # noqa: F401
from crisis_ct.kobo import models as kobo_models  # noqa: F401
from crisis_ct.notifications import models as notifications_models  # noqa: F401
from crisis_ct.scoring import queue as scoring_queue  # noqa: F401
from crisis_ct.scoring import models as scoring_models  # noqa: F401
from crisis_ct.tasks import models as tasks_models  # noqa: F401
from crisis_ct.db import Base

metadata = Base.metadata
