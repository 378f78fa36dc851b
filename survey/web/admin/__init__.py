"""Administration: cycles and invitations, boards, partnerships, rosters, users.

Every page here is for administrators (others get 404), except the board roster page,
where a board lead sees their own members' statuses (never answers) and reminds them.
`blueprint` holds the blueprint, the helpers its views share and the index page; the
views live in `cycles`, `boards`, `rosters`, `sectors` and `users`, registered on import.
"""

from survey.web.admin import (  # noqa: F401  (views register on bp)
    audit,
    boards,
    cycles,
    releases,
    rosters,
    sectors,
    users,
)
from survey.web.admin.blueprint import bp

__all__ = ["bp"]
