"""Every domain's tables, imported in one place so migrations and tests see the whole schema."""
from app.accounts.models import *  # noqa: F401,F403
from app.courses.models import *  # noqa: F401,F403
from app.bookings.models import *  # noqa: F401,F403
from app.evaluation.models import *  # noqa: F401,F403
from app.attendance.models import *  # noqa: F401,F403
from app.email import OutboxMessage  # noqa: F401
from app.access_log import AccessLogEntry  # noqa: F401
from app.jobs import JobLease  # noqa: F401
from app.reports.models import *  # noqa: F401,F403
from app.api.models import ApiToken  # noqa: F401
