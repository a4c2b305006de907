"""Care coordination for people experiencing homelessness.

* `attendance_status(con)`: the housing status at every A&E attendance and ambulance
  call-out of an insights context, with its evidence (`status`).
* `frequent_attenders(con, period=...)`: people with many A&E attendances (`frequent`).
* the `homeless-care` analysis (`analysis`, registered in
  `sectorlink.insights.analyses.homeless_care`).

See docs/insights/homelessness.md.
"""

from sectorlink.insights.homelessness.frequent import frequent_attenders
from sectorlink.insights.homelessness.status import (
    HOMELESS_STATUSES,
    STATUSES,
    StatusRules,
    attendance_status,
)

__all__ = [
    "HOMELESS_STATUSES",
    "STATUSES",
    "StatusRules",
    "attendance_status",
    "frequent_attenders",
]
