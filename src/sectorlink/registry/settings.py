"""Settings kept in the registry that only an admin changes.

* `disclosure.minimum_count`: the region's minimum disclosure threshold. A custom profile
  hiding fewer counts than this is refused (`custom_profile(..., minimum=...)`,
  `release_aggregate`). Default `DEFAULT_MINIMUM_COUNT` (8: counts 1-7 always hidden).

A change is a registry write, so it is audited (a `registry-change` of the `setting`)
with its actor and the value before and after. The API's route is admin-only; the CLI's
command is for whoever holds the database.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sectorlink.registry.errors import InvalidInput
from sectorlink.registry.models import RegistrySetting

DEFAULT_MINIMUM_COUNT = 8  # the same as sectorlink.governance.disclosure's
MINIMUM_KEY = "disclosure.minimum_count"


def disclosure_minimum(session: Session) -> int:
    """The region's minimum disclosure threshold (`min_count`)."""
    found = session.get(RegistrySetting, MINIMUM_KEY)
    return int(found.value) if found is not None else DEFAULT_MINIMUM_COUNT


def set_disclosure_minimum(session: Session, value: int) -> int:
    """Set the minimum threshold (at least 2: a threshold of 1 hides nothing); audited."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 2:
        raise InvalidInput(
            f"the disclosure minimum must be a whole number of 2 or more, not {value!r}"
        )
    found = session.get(RegistrySetting, MINIMUM_KEY)
    if found is None:
        session.add(RegistrySetting(key=MINIMUM_KEY, value=str(value)))
    else:
        found.value = str(value)
    session.flush()
    return value
