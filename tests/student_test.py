if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""StudentDAO on both backends: mapping a login account to its student profile."""
from app.dao.student import StudentDAO
from tests.factories import make_instructor, make_student, make_user


def test_id_for_user_finds_that_users_profile(db):
    jack_user, mia_user = make_user(db), make_user(db)
    mia = make_student(db, user_id=mia_user)
    jack = make_student(db, user_id=jack_user)
    dao = StudentDAO(db)
    assert dao.id_for_user(jack_user) == jack
    assert dao.id_for_user(mia_user) == mia


def test_id_for_user_is_none_without_a_student_profile(db):
    instructor_user = make_user(db, role="instructor")
    make_instructor(db, user_id=instructor_user)
    make_student(db)
    dao = StudentDAO(db)
    assert dao.id_for_user(instructor_user) is None
    assert dao.id_for_user(instructor_user + 1000) is None


def test_id_for_user_picks_the_oldest_when_the_schema_allows_two(db):
    # students.user_id has no UNIQUE key (original schema, spec 8.3.8): the answer must be stable
    user = make_user(db)
    first = make_student(db, user_id=user)
    second = make_student(db, user_id=user)
    assert second > first
    assert StudentDAO(db).id_for_user(user) == first
