"""NoteDAO on both backends: notes about a student, newest first with the author's name."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, timedelta

import pytest

from app.dao.note import NoteDAO
from tests import factories as f

NOW = datetime(2026, 3, 10, 2, 30, 0)


def test_insert_find_and_list_newest_first_with_author(db):
    student, other = f.make_student(db), f.make_student(db)
    author = f.make_user(db, role="staff", first_name="Oliver", last_name="Grant")
    dao = NoteDAO(db)
    older = dao.insert("student", student, author, "Strong mirror skills.", NOW - timedelta(days=1))
    newer = dao.insert("student", student, author, "Rebook the hill starts.", NOW)
    dao.insert("student", other, author, "Someone else.", NOW)
    dao.insert("instructor", student, author, "Same id, other kind.", NOW)
    assert dao.find(older)["content"] == "Strong mirror skills."
    assert dao.find(older)["created_at"] == NOW - timedelta(days=1)
    rows = dao.for_related("student", student)
    assert [r["id"] for r in rows] == [newer, older]
    assert rows[0]["author_first_name"] == "Oliver" and rows[0]["author_role"] == "staff"
    assert [r["id"] for r in dao.for_related("student", student, limit=1)] == [newer]
    assert len(dao.for_related("student", other)) == 1 and len(dao.for_related("instructor", student)) == 1
    assert dao.find(newer + 1000) is None


def test_same_second_notes_are_ordered_by_id(db):
    student = f.make_student(db)
    dao = NoteDAO(db)
    ids = [dao.insert("student", student, None, f"n{i}", NOW) for i in range(3)]
    assert [r["id"] for r in dao.for_related("student", student)] == ids[::-1]


def test_author_removed_leaves_the_note_without_author(db):
    student = f.make_student(db)
    author = f.make_user(db, role="staff")
    note = NoteDAO(db).insert("student", student, author, "Keep me.", NOW)
    db.execute("DELETE FROM users WHERE id = :id", {"id": author})  # fk_note_author ON DELETE SET NULL
    row = NoteDAO(db).for_related("student", student)[0]
    assert row["id"] == note and row["author_user_id"] is None and row["author_first_name"] is None


def test_long_content_is_kept_whole(db):
    student = f.make_student(db)
    text = "x" * 5000 + "\nsecond line"
    note = NoteDAO(db).insert("student", student, None, text, NOW)
    assert NoteDAO(db).find(note)["content"] == text


def test_unknown_related_type_is_refused(db):
    with pytest.raises(ValueError):
        NoteDAO(db).insert("vehicle", 1, None, "no", NOW)
