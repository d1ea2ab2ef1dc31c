"""The password policy (services/password_policy.py): length in characters, the common-password list,
context words; and that every place a password is set applies it (change, activation; reset in
tests/password_reset_test.py)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from app.core import passwords
from app.core.errors import ValidationFailed
from app.services import password_policy as policy
from tests.conftest import DEMO_PASSWORD, FAST_HASH, csrf_token, login, post_form

SETTINGS = {"PASSWORD_MIN_LENGTH": 8, "APP_NAME": "Origin Driving School"}


def refusal(password, words=(), field="new_password") -> str | None:
    try:
        policy.check(password, context_words=words, settings=SETTINGS, field=field)
    except ValidationFailed as exc:
        assert exc.errors == {field: [exc.message]}, exc.errors  # shown on the field it names
        return exc.message
    return None


# --------------------------------------------------------------------------- length

def test_length_counts_characters_not_bytes_and_nothing_is_trimmed():
    assert "at least 8 characters" in refusal("seven77")
    assert refusal("kea8-fox") is None
    assert refusal("🚗" * 8) is None  # 8 characters, 32 bytes
    assert "at least 8" in refusal("🚗" * 7)
    assert refusal("é" * 128) is None  # 128 characters, 256 bytes
    assert "at most 128 characters" in refusal("x" * 129)
    assert refusal("a b c d e") is None  # spaces count and are kept
    assert "at least 8" in refusal("  abc  ")  # 7 characters as typed (no trimming, no padding)
    assert refusal("  abcd  ") is None  # 8 as typed


def test_no_composition_rules():
    for password in ("alllowercaseletters", "ALL CAPS AND SPACES", "12345098765432", "ünïcödé pässwörd"):
        assert refusal(password) is None, password


# --------------------------------------------------------------------------- common passwords

def test_common_passwords_are_refused_case_insensitively_from_a_list_of_30000_loaded_once():
    common = policy.common_passwords()
    assert isinstance(common, frozenset) and len(common) >= 29000  # zxcvbn's 30,000, folded
    assert policy.common_passwords() is common  # loaded once
    for password in ("password1", "PassWord1", "qwertyuiop", "TRUSTNO1", " iloveyou1 "):
        assert "list of common passwords" in refusal(password), password
    assert refusal("correct horse battery staple") is None


# --------------------------------------------------------------------------- context words

def test_context_words_are_refused_with_the_word_named():
    words = [policy.ContextWord("Jack", policy.NAME), policy.ContextWord("jack.mason", policy.EMAIL),
             *policy.words_of("Origin Driving School", policy.SCHOOL, skip_generic=True)]
    assert refusal("myJACKrabbit99", words) == "Password must not contain your name \u201cJack\u201d."
    assert "your e-mail address \u201cjack.mason\u201d" in refusal("jack.mason-is-here", words)  # longest wins
    assert "the school's name \u201cOrigin\u201d" in refusal("ORIGINAL thinking", words)
    assert refusal("school bus driving days", words) is None  # generic words of the name are not refused
    assert "\u201cOriginDrivingSchool\u201d" in refusal("xOriginDrivingSchoolx", words)


def test_words_shorter_than_four_characters_do_not_count():
    assert policy.words_of("Li", policy.NAME) == []
    assert refusal("lilies of the field", ["Li", "Bo"]) is None
    assert [w.word for w in policy.words_of("Mary-Jane O'Neil", policy.NAME)] == [
        "Mary-Jane O'Neil", "Mary-JaneO'Neil", "Mary", "Jane", "Neil"]


def test_context_words_come_from_the_school_its_branches_and_the_user(db):
    from tests import factories as f

    f.make_branch(db, name="Bayside Training Hub")
    user = f.make_user(db, first_name="Matilda", last_name="Ng", email="tilly.w@example.com")
    words = {w.key: w.what for w in policy.context_words(db, user, SETTINGS, extra=[("Quokka", "the pet")])}
    assert words["origin"] == policy.SCHOOL and words["bayside"] == policy.BRANCH
    assert words["matilda"] == policy.NAME and words["tilly.w"] == policy.EMAIL and words["tilly"] == policy.EMAIL
    assert words["quokka"] == "the pet"
    assert "ng" not in words and "school" not in words and "training" not in words and "hub" not in words
    anonymous = {w.key for w in policy.context_words(db, None, SETTINGS)}
    assert "origin" in anonymous and "matilda" not in anonymous


# --------------------------------------------------------------------------- property

KNOWN_WORDS = ["Jack", "Mason", "origin", "Bayside", "ab"]  # "ab" is too short to count


def oracle(password: str, words: list[str]) -> str | None:
    """The policy written out independently: which rule (if any) refuses the password."""
    if len(password) < 8:
        return "short"
    if len(password) > 128:
        return "long"
    if password.casefold() in policy.common_passwords() or password.casefold().strip() in policy.common_passwords():
        return "common"
    if any(len(w) >= 4 and w.casefold() in password.casefold() for w in words):
        return "context"
    return None


def _rule(message: str | None) -> str | None:
    if message is None:
        return None
    for key, rule in (("at least", "short"), ("at most", "long"), ("common passwords", "common"),
                      ("must not contain", "context")):
        if key in message:
            return rule
    raise AssertionError(message)


passwords_st = st.one_of(
    st.text(min_size=0, max_size=140),
    st.sampled_from(["password1", "Qwertyuiop", "iloveyou2", "letmein!", "dragon12"]),
    st.builds(lambda a, w, b: a + w + b, st.text(max_size=8), st.sampled_from(KNOWN_WORDS + ["JACK", "oRiGiN"]),
              st.text(max_size=8)),
)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=passwords_st, words=st.lists(st.sampled_from(KNOWN_WORDS), max_size=4))
def test_decisions_match_the_policy(password, words):
    assert _rule(refusal(password, words)) == oracle(password, words)


def test_a_100_character_password_verifies_and_its_99_character_prefix_does_not():
    passwords.configure(FAST_HASH)
    try:
        password = ("Sun and rain over the bay 🚗 " * 5)[:100]
        assert len(password) == 100 and refusal(password) is None
        stored = passwords.hash_password(password)
        assert passwords.verify_password(stored, password)
        assert not passwords.verify_password(stored, password[:99])
    finally:
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


# --------------------------------------------------------------------------- every place a password is set

def test_change_password_refuses_common_and_context_words_and_writes_nothing(seeded):
    client = seeded.test_client()
    login(client, "jack.mason@student.com")
    from app.core.flask_db import get_db

    with seeded.app_context():
        before = get_db().fetch_value("SELECT password_hash FROM users WHERE email = 'jack.mason@student.com'")
    for new, message in (("password1", "list of common passwords"),
                         ("Jack rides to the bay", "must not contain your name \u201cJack\u201d"),
                         ("my origin story", "the school&#39;s name \u201cOrigin\u201d")):
        response = post_form(client, "/account/password", {"current_password": DEMO_PASSWORD, "new_password": new,
                                                            "confirm_password": new}, token_from="/account/password")
        assert response.status_code == 422 and message in response.get_data(as_text=True), new
    with seeded.app_context():
        assert get_db().fetch_value("SELECT password_hash FROM users WHERE email = 'jack.mason@student.com'") == before
    assert client.get("/dashboard/").status_code == 200  # still signed in: nothing happened


def test_activation_uses_the_policy_with_the_new_users_words(seeded):
    from app.core import clock
    from app.core.flask_db import get_db
    from app.services import accounts
    from app.services.scope import SYSTEM
    from tests import factories as f

    with seeded.app_context():
        db = get_db()
        user = f.make_user(db, first_name="Priyanka", email="p.rao@example.com",
                           password_hash=accounts.unusable_password_hash())
        token = accounts.reissue_activation(db, SYSTEM, user, clock.now()).token
    client = seeded.test_client()
    path = f"/auth/activate/{token}"
    page = client.get(path).get_data(as_text=True)
    assert "data-password-strength" in page and "js/password-strength.js" in page
    for password, message in (("priyanka2027!", "your name \u201cPriyanka\u201d"),
                              ("iloveyou1", "list of common passwords")):
        response = client.post(path, data={"csrf_token": csrf_token(client, path), "password": password,
                                           "confirm_password": password})
        assert response.status_code == 422 and message in response.get_data(as_text=True), password
    good = "kettle on the windowsill"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "password": good,
                                       "confirm_password": good})
    assert response.status_code == 303
