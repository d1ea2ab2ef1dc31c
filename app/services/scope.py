"""Who is acting, and what they may see.

Rules (deny by default; outside the scope means 404, never a hint that it exists):
- admin: everything;
- staff: their own branch only (a staff account without a branch sees no branch data);
- instructor: their own profile, lessons and the students they teach;
- student: their own records.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import NotFound

NO_BRANCH = -1  # matches no row: used for staff without a branch


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: str
    branch_id: int | None = None
    instructor_id: int | None = None
    student_id: int | None = None
    ip: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_office(self) -> bool:
        return self.role in ("admin", "staff")

    @property
    def lacks_branch(self) -> bool:
        """A staff account with no branch: it may see nothing of any branch until one is assigned."""
        return self.role == "staff" and self.branch_id is None

    def branch_filter(self) -> int | None:
        """None = all branches (admin); otherwise the only branch id this actor may touch."""
        if self.role == "admin":
            return None
        return self.branch_id if self.branch_id is not None else NO_BRANCH

    def require_branch(self, branch_id: int | None) -> None:
        """Raise NotFound unless this office actor may touch records of ``branch_id``."""
        if not self.is_office:
            raise NotFound("Not found")
        allowed = self.branch_filter()
        if allowed is not None and branch_id != allowed:
            raise NotFound("Not found")


SYSTEM = Actor(user_id=0, role="admin")  # commands and migrations acting as the system
