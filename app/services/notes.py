"""Internal notes on a student: admin, staff (own branch) and instructors (their own students).

Students never see notes. Unlike the original (spec 3.4, 8.2.1), the student must exist and be in
the author's scope; the note and its ``student_note_added`` audit row are written together.
"""
from __future__ import annotations

from datetime import datetime

from app.core.database import Database
from app.core.errors import NotFound, ValidationFailed
from app.dao.note import NoteDAO
from app.services import audit
from app.services.scope import Actor
from app.services.students import NOTE_ROLES, get_student

MAX_NOTE_LENGTH = 5000


def add_student_note(db: Database, actor: Actor, student_id: int, content: str | None, now: datetime) -> int:
    if actor.role not in NOTE_ROLES:
        raise NotFound("Student not found")
    get_student(db, actor, student_id)
    text = (content or "").strip()
    if not text:
        raise ValidationFailed("Write the note.", field="content")
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationFailed(f"A note can be at most {MAX_NOTE_LENGTH} characters.", field="content")
    with db.transaction():
        note_id = NoteDAO(db).insert("student", student_id, actor.user_id or None, text, now)
        audit.record(db, actor, "student_note_added", "student", student_id, now=now, details="Note added.",
                     after={"note_id": note_id, "length": len(text)})
    return note_id
