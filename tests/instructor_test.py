if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""InstructorDAO on both backends: mapping a login account to its instructor profile."""
from app.dao.instructor import InstructorDAO
from tests.factories import make_instructor, make_student, make_user


def test_id_for_user_finds_that_users_profile(db):
    amelia_user, raj_user = make_user(db, role="instructor"), make_user(db, role="instructor")
    raj = make_instructor(db, user_id=raj_user)
    amelia = make_instructor(db, user_id=amelia_user)
    dao = InstructorDAO(db)
    assert dao.id_for_user(amelia_user) == amelia
    assert dao.id_for_user(raj_user) == raj


def test_id_for_user_is_none_without_an_instructor_profile(db):
    student_user = make_user(db, role="student")
    make_student(db, user_id=student_user)
    make_instructor(db)
    dao = InstructorDAO(db)
    assert dao.id_for_user(student_user) is None
    assert dao.id_for_user(student_user + 1000) is None


def test_id_for_user_picks_the_oldest_when_the_schema_allows_two(db):
    # instructors.user_id has no UNIQUE key (original schema, spec 8.3.8): the answer must be stable
    user = make_user(db, role="instructor")
    first = make_instructor(db, user_id=user)
    second = make_instructor(db, user_id=user)
    assert second > first
    assert InstructorDAO(db).id_for_user(user) == first
