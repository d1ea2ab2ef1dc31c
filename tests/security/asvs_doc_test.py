"""docs/security.md stays honest: pure text parsing, no app, no database.

The document lists every ASVS 4.0.3 level-2 requirement (level 1 and level 2 items; level-3-only
items only when they are met) in one table per chapter: item, requirement in our words, status,
where it is implemented, and the tests that prove it. Asserted here:

- the rows cover exactly the ASVS 4.0.3 L1+L2 ids (none missing, none twice), plus only real
  L3-only ids, which must then be Implemented;
- the status is one of Implemented, Partly, Not applicable, Not done;
- every `tests/...py::test_name` reference anywhere in the document exists (the file exists and
  defines that test function; a parametrised id such as ``[sqlite]`` is ignored), and every
  `app/...py::name` reference names a function, class or variable defined in that file;
- every Implemented item names at least one place and at least one test;
- every Not applicable item gives its reason, and every Partly or Not done item says what is missing
  (``Missing:``);
- every file path named (in backticks) exists, and every setting named in capitals is a real setting;
- the summary's counts equal the counts of the tables.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import ast
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"

STATUSES = ("Implemented", "Partly", "Not applicable", "Not done")


def _ids(spec: str) -> set[str]:
    """'1.1: 1-7; 1.2: 1-4' -> {'V1.1.1', ..., 'V1.2.4'} (ranges and single numbers)."""
    found: set[str] = set()
    for part in spec.split(";"):
        section, _, numbers = part.strip().partition(":")
        for item in numbers.split(","):
            item = item.strip()
            low, _, high = item.partition("-")
            for n in range(int(low), int(high or low) + 1):
                found.add(f"V{section.strip()}.{n}")
    return found


# The numbered ASVS 4.0.3 requirements marked for level 1 or level 2 (deleted items left out);
# 2.8.7 is "optional" at L2 and the V2.10 items "OS assisted": listed too. Source:
# OWASP/ASVS 4.0/docs_en/OWASP Application Security Verification Standard 4.0.3-en.csv.
LEVEL2 = _ids(
    "1.1: 1-7; 1.2: 1-4; 1.4: 1, 4, 5; 1.5: 1-4; 1.6: 1-4; 1.7: 1-2; 1.8: 1-2; 1.9: 1-2; 1.10: 1;"
    " 1.11: 1-2; 1.12: 2; 1.14: 1-6;"
    " 2.1: 1-12; 2.2: 1-3; 2.3: 1-3; 2.4: 1-6; 2.5: 1-7; 2.6: 1-3; 2.7: 1-6; 2.8: 1-7; 2.9: 1-3; 2.10: 1-4;"
    " 3.1: 1; 3.2: 1-4; 3.3: 1-4; 3.4: 1-5; 3.5: 1-3; 3.7: 1;"
    " 4.1: 1-3, 5; 4.2: 1-2; 4.3: 1-3;"
    " 5.1: 1-5; 5.2: 1-8; 5.3: 1-10; 5.4: 1-3; 5.5: 1-4;"
    " 6.1: 1-3; 6.2: 1-6; 6.3: 1-2; 6.4: 1-2;"
    " 7.1: 1-4; 7.2: 1-2; 7.3: 1, 3, 4; 7.4: 1-3;"
    " 8.1: 1-4; 8.2: 1-3; 8.3: 1-8;"
    " 9.1: 1-3; 9.2: 1-4;"
    " 10.2: 1-2; 10.3: 1-3;"
    " 11.1: 1-8;"
    " 12.1: 1-3; 12.2: 1; 12.3: 1-6; 12.4: 1-2; 12.5: 1-2; 12.6: 1;"
    " 13.1: 1, 3, 4, 5; 13.2: 1-3, 5, 6; 13.3: 1-2; 13.4: 1-2;"
    " 14.1: 1-4; 14.2: 1-6; 14.3: 2-3; 14.4: 1-7; 14.5: 1-4"
)
# Level-3-only requirements: listed only when met.
LEVEL3_ONLY = _ids(
    "1.11: 3; 2.2: 4-7; 3.6: 1-2; 6.2: 7-8; 6.3: 3; 8.1: 5-6; 9.2: 5; 10.1: 1; 10.2: 3-6; 14.1: 5"
)

ROW = re.compile(r"^\|\s*(V\d+\.\d+\.\d+)\s*\|")
TEST_REF = re.compile(r"(tests/[\w./-]+?\.py)::(\w+)(\[[^\]`|]*\])?")
CODE_REF = re.compile(r"(?<![\w/.-])((?:app/[\w./-]*?|cli)\.py)::(\w+)")
BACKTICKED = re.compile(r"`([^`]+)`")
PATH_ROOTS = ("app/", "tests/", "templates/", "static/", "sql/", "docs/", ".ci/", "bench/")
ROOT_FILES = {"Makefile", "README.md", "requirements.txt", "requirements-dev.txt", ".env.example",
              "pyproject.toml", "package.json", "package-lock.json", "cli.py", ".gitignore", ".flaskenv"}
SETTING = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
PLACEHOLDER = {"", "-", "—", "n/a", "none", "tbd", "todo"}


@lru_cache(maxsize=None)
def _text() -> str:
    assert DOC.is_file(), "docs/security.md is missing"
    return DOC.read_text(encoding="utf-8")


def _cells(line: str) -> list[str]:
    # Split a markdown table row on pipes that are not inside backticks.
    cells, current, in_code = [], [], False
    for ch in line.strip().strip("|"):
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    cells.append("".join(current).strip())
    return cells


@lru_cache(maxsize=None)
def _rows() -> tuple[dict, ...]:
    rows = []
    for number, line in enumerate(_text().splitlines(), 1):
        if not ROW.match(line):
            continue
        cells = _cells(line)
        assert len(cells) == 5, f"line {number}: expected 5 cells (item, requirement, status, where, tests): {line}"
        item, requirement, status, where, tests = cells
        rows.append({"line": number, "id": item, "requirement": requirement, "status": status,
                     "where": where, "tests": tests})
    return tuple(rows)


@lru_cache(maxsize=None)
def _defined_names(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


@lru_cache(maxsize=None)
def _test_functions(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return frozenset(node.name for node in ast.walk(tree)
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"))


def _paths(cell: str) -> list[str]:
    """File paths named in backticks: `app/core/auth.py`, `app/core/auth.py::name`, `templates/auth/`."""
    found = []
    for token in BACKTICKED.findall(cell):
        token = token.strip().split("::", 1)[0].split(" ", 1)[0]
        if token.startswith(PATH_ROOTS) or token in ROOT_FILES:
            found.append(token)
    return found


def _exists(token: str) -> bool:
    if any(ch in token for ch in "*?["):
        return any(ROOT.glob(token))
    return (ROOT / token).exists()


def _settings() -> str:
    return "".join((ROOT / name).read_text(encoding="utf-8") for name in ("app/config.py", "app/bootstrap.py"))


def test_every_level_2_item_is_listed_once_and_only_real_level_3_items_are_added():
    ids = [row["id"] for row in _rows()]
    twice = sorted(item for item, count in Counter(ids).items() if count > 1)
    assert not twice, f"listed more than once: {twice}"
    missing = sorted(LEVEL2 - set(ids), key=_order)
    assert not missing, f"ASVS 4.0.3 level-2 items missing from docs/security.md: {missing}"
    unknown = sorted(set(ids) - LEVEL2 - LEVEL3_ONLY, key=_order)
    assert not unknown, f"not ASVS 4.0.3 requirement ids (or deleted ones): {unknown}"
    for row in _rows():
        if row["id"] in LEVEL3_ONLY:
            assert row["status"] == "Implemented", f"{row['id']}: level-3-only items are listed only when met"


def _order(item: str) -> tuple[int, ...]:
    return tuple(int(part) for part in item[1:].split("."))


def test_rows_are_in_chapter_order_under_their_chapter_heading():
    chapter = None
    previous: tuple[int, ...] = ()
    for number, line in enumerate(_text().splitlines(), 1):
        heading = re.match(r"^## (V\d+)\b", line)
        if heading:
            chapter = heading.group(1)
            continue
        match = ROW.match(line)
        if match:
            item = match.group(1)
            assert chapter is not None and item.startswith(chapter + "."), f"line {number}: {item} under {chapter}"
            if item not in LEVEL3_ONLY:
                assert _order(item) > previous, f"line {number}: {item} out of order"
                previous = _order(item)


def test_statuses_are_from_the_fixed_vocabulary():
    problems = [f"{row['id']} (line {row['line']}): status {row['status']!r}" for row in _rows()
                if row["status"] not in STATUSES]
    problems += [f"{row['id']}: no requirement text" for row in _rows() if row["requirement"].lower() in PLACEHOLDER]
    assert not problems, "\n".join(problems)


def test_every_test_reference_exists():
    refs = TEST_REF.findall(_text())
    assert refs, "the document names no tests"
    broken = []
    for path, name, _param in refs:
        file = ROOT / path
        if not file.is_file():
            broken.append(f"{path} (no such file)")
        elif name not in _test_functions(file):
            broken.append(f"{path}::{name} (no such test function)")
    assert not broken, "docs/security.md names tests that do not exist:\n" + "\n".join(sorted(set(broken)))


def test_every_code_reference_exists():
    broken = []
    for path, name in CODE_REF.findall(_text()):
        file = ROOT / path
        if not file.is_file():
            broken.append(f"{path} (no such file)")
        elif name not in _defined_names(file):
            broken.append(f"{path}::{name} (not defined there)")
    assert not broken, "docs/security.md names code that does not exist:\n" + "\n".join(sorted(set(broken)))


def test_implemented_items_name_a_place_and_a_test():
    problems = []
    for row in _rows():
        if row["status"] != "Implemented":
            continue
        if not _paths(row["where"]):
            problems.append(f"{row['id']}: Implemented but no file is named in 'where'")
        if not TEST_REF.search(row["tests"]):
            problems.append(f"{row['id']}: Implemented but no `tests/...py::test_name` proves it")
    assert not problems, "\n".join(problems)


def test_not_applicable_items_give_a_reason_and_unfinished_items_say_what_is_missing():
    problems = []
    for row in _rows():
        where = row["where"].strip()
        if row["status"] == "Not applicable":
            words = re.findall(r"[A-Za-z]{2,}", where)
            if where.lower() in PLACEHOLDER or len(words) < 4:
                problems.append(f"{row['id']}: Not applicable needs a reason")
        if row["status"] in ("Partly", "Not done"):
            missing = where.split("Missing:", 1)
            if len(missing) < 2 or len(re.findall(r"[A-Za-z]{2,}", missing[1])) < 3:
                problems.append(f"{row['id']}: {row['status']} must say what is missing ('Missing: ...')")
    assert not problems, "\n".join(problems)


def test_every_file_path_named_exists():
    missing = []
    for number, line in enumerate(_text().splitlines(), 1):
        for token in _paths(line):
            if not _exists(token):
                missing.append(f"line {number}: {token}")
    assert not missing, "docs/security.md names files that do not exist:\n" + "\n".join(missing)


def test_every_setting_named_is_a_real_setting():
    known = _settings()
    unknown = []
    for row in _rows():
        for token in BACKTICKED.findall(row["where"]):
            token = token.split("=", 1)[0].strip()
            if SETTING.match(token) and not re.search(rf"\b{re.escape(token)}\b", known):
                unknown.append(f"{row['id']}: {token}")
    assert not unknown, "settings not found in app/config.py or app/bootstrap.py:\n" + "\n".join(unknown)


def test_summary_counts_match_the_tables():
    summary = _text().split("## Summary", 1)
    assert len(summary) == 2, "docs/security.md needs a '## Summary' section"
    section = summary[1].split("\n## ", 1)[0]
    stated = {}
    for line in section.splitlines():
        cells = _cells(line) if line.startswith("|") else []
        if len(cells) >= 2 and cells[0] in (*STATUSES, "Total") and cells[1].isdigit():
            stated[cells[0]] = int(cells[1])
    level2 = [row for row in _rows() if row["id"] in LEVEL2]
    counted = Counter(row["status"] for row in level2)
    expected = {status: counted.get(status, 0) for status in STATUSES}
    expected["Total"] = len(level2)
    assert stated == expected, f"summary says {stated}, the tables hold {expected}"


@pytest.mark.parametrize("cell, paths", [
    ("`app/core/auth.py::public`, `templates/auth/` and `/auth/login`", ["app/core/auth.py", "templates/auth/"]),
    ("`SECRET_KEY`, `Makefile` (`make test`)", ["Makefile"]),
])
def test_path_detection(cell, paths):
    assert _paths(cell) == paths


def test_cells_split_outside_backticks_only():
    assert _cells("| V1.1.1 | a | Partly | `x | y` Missing: z | — |") == ["V1.1.1", "a", "Partly", "`x | y` Missing: z", "—"]
