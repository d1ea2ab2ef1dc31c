"""The password policy (issue 11, ASVS 4.0.3 2.1.1-2.1.9, NIST SP 800-63B 5.1.1.2).

Every place a password is set calls :func:`check`: changing one's password (services.auth), activation
(services.accounts) and the e-mailed reset (services.password_reset). The rules, in the order they are
checked (the message names the first one broken):

- **Length**: PASSWORD_MIN_LENGTH (8) to MAX_LENGTH (128) *characters* (``len`` of the text, i.e.
  Unicode code points, not bytes). Nothing is truncated or trimmed; spaces, accents and emoji count
  like any other character. No composition rules (no "one digit and one capital").
- **Common passwords**: refused when the whole password, compared case-insensitively (and with
  surrounding spaces ignored), is one of zxcvbn's 30,000 most common passwords
  (``zxcvbn.frequency_lists.FREQUENCY_LISTS["passwords"]``, a pinned package), loaded once into a
  frozenset on first use.
- **Context words**: refused when it contains, case-insensitively, a word of at least MIN_WORD (4)
  characters that belongs to this school or account (:func:`context_words`): the school's name
  (APP_NAME), the branch names, the user's first and last names and their e-mail's local part.

Which words of a name count: each word of at least 4 letters or digits, the whole name (as written
and without its spaces) and, for the e-mail, the whole local part ("jack.mason") and its pieces. In
the school's and branches' names, words that only say what or where the business is ("driving",
"school", "training", "centre", ... GENERIC_WORDS) are left out on their own: "Origin Driving
School" refuses "origin" (and "origindrivingschool"), not every password with "school" in it, which
would refuse good passphrases for no gain. A person's names are never filtered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

from app.core.database import Database
from app.core.errors import ValidationFailed
from app.dao.branch import BranchDAO
from app.dao.user import UserDAO

MAX_LENGTH = 128
MIN_WORD = 4
GENERIC_WORDS = frozenset({
    "driving", "drive", "driver", "drivers", "school", "schools", "academy", "lesson", "lessons", "training",
    "centre", "center", "branch", "office", "headquarters", "campus", "hub", "suburbs", "city", "street",
    "road", "north", "northern", "south", "southern", "east", "eastern", "west", "western", "the", "and",
})
_PIECES = re.compile(r"[^\W_]+")  # runs of letters and digits (any script)

SCHOOL = "the school's name"
BRANCH = "a branch name"
NAME = "your name"
EMAIL = "your e-mail address"


@dataclass(frozen=True)
class ContextWord:
    """A word a password must not contain, and what it is (for the message)."""

    word: str
    what: str = "a word linked to this account"

    @property
    def key(self) -> str:
        return fold(self.word)


def fold(text: str) -> str:
    """Case-insensitive form used for every comparison (Unicode case folding: "Straße" ~ "STRASSE")."""
    return text.casefold()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(fold(p) for p in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    folded = fold(password)
    common = common_passwords()
    return folded in common or folded.strip() in common


def words_of(text: str | None, what: str, *, skip_generic: bool = False) -> list[ContextWord]:
    """The context words a name contributes (see the module docstring)."""
    text = " ".join(str(text or "").split())
    if not text:
        return []
    found = [text, text.replace(" ", "")]
    found += [p for p in _PIECES.findall(text) if not (skip_generic and fold(p) in GENERIC_WORDS)]
    out = []
    for word in found:
        if len(word) >= MIN_WORD and not (skip_generic and fold(word) in GENERIC_WORDS):
            out.append(ContextWord(word, what))
    return out


def _dedupe(words: Iterable[ContextWord]) -> tuple[ContextWord, ...]:
    seen: dict[str, ContextWord] = {}
    for word in words:
        seen.setdefault(word.key, word)  # the first reason wins ("Jack": your name before your e-mail)
    return tuple(seen.values())


def context_words(db: Database, user_id: int | None, settings: Mapping[str, Any],
                  extra: Iterable[str | ContextWord | tuple[str, str]] = ()) -> tuple[ContextWord, ...]:
    """The words a password of this user (None: a user not known yet) must not contain: the school's
    name, every branch's name, the user's first and last names and e-mail local part, and ``extra``
    (strings, ContextWord or (word, what) pairs, e.g. a name typed on the same form)."""
    words: list[ContextWord] = words_of(settings.get("APP_NAME"), SCHOOL, skip_generic=True)
    for branch in BranchDAO(db).options():
        words += words_of(branch["name"], BRANCH, skip_generic=True)
    user = UserDAO(db).find_by_id(user_id) if user_id else None
    if user:
        words += words_of(user["first_name"], NAME) + words_of(user["last_name"], NAME)
        local = str(user["email"] or "").partition("@")[0]
        words += words_of(local, EMAIL)
    for item in extra:
        if isinstance(item, ContextWord):
            words.append(item)
        elif isinstance(item, tuple):
            words += words_of(item[0], item[1])
        else:
            words += words_of(item, ContextWord.what)
    return _dedupe(words)


def _as_words(words: Iterable[str | ContextWord]) -> list[ContextWord]:
    out = []
    for word in words:
        word = word if isinstance(word, ContextWord) else ContextWord(str(word))
        if len(word.word) >= MIN_WORD:
            out.append(word)
    return out


def contained_word(password: str, words: Iterable[str | ContextWord]) -> ContextWord | None:
    """The longest context word the password contains (case-insensitively), or None."""
    folded = fold(password)
    hits = [w for w in _as_words(words) if w.key and w.key in folded]
    return max(hits, key=lambda w: len(w.key)) if hits else None


def check(password: Any, *, context_words: Iterable[str | ContextWord] = (), settings: Mapping[str, Any],
          field: str = "new_password") -> None:
    """Raise ValidationFailed(field=field) naming the first rule the password breaks; return None if it
    passes. ``context_words``: from :func:`context_words` (plain strings are accepted too)."""
    if not isinstance(password, str):
        raise ValidationFailed("Choose a password.", field=field)
    minimum = int(settings.get("PASSWORD_MIN_LENGTH") or 8)
    length = len(password)
    if length < minimum:
        raise ValidationFailed(f"Password must be at least {minimum} characters (this one has {length}).",
                               field=field)
    if length > MAX_LENGTH:
        raise ValidationFailed(f"Password must be at most {MAX_LENGTH} characters (this one has {length}).",
                               field=field)
    if is_common(password):
        raise ValidationFailed("This password is on the list of common passwords, so it is among the first an "
                               "attacker tries. Choose another: a few unrelated words work well.", field=field)
    hit = contained_word(password, context_words)
    if hit is not None:
        raise ValidationFailed(f"Password must not contain {hit.what} \u201c{hit.word}\u201d.", field=field)
