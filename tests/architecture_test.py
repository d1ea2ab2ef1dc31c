"""Layering rules from the style guide, checked by reading the source."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
SQL = re.compile(r"\b(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)")


def python_files(*parts):
    for part in parts:
        yield from sorted((APP / part).rglob("*.py")) if (APP / part).is_dir() else [APP / part]


def string_literals(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_sql_lives_only_in_dao_and_the_database_core():
    offenders = []
    for path in list(python_files("services", "blueprints", "forms", "core")) + [ROOT / "cli.py"]:
        if path.name == "database.py":
            continue
        if any(SQL.search(s) for s in string_literals(path)):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"SQL outside app/dao: {offenders}"


def test_services_dao_and_database_core_do_not_import_flask():
    for path in list(python_files("services", "dao")) + [APP / "core" / "database.py", APP / "core" / "clock.py",
                                                          APP / "config.py", APP / "core" / "passwords.py"]:
        flask_imports = {m for m in imports(path) if m == "flask" or m.startswith(("flask.", "flask_"))}
        assert not flask_imports, f"{path.relative_to(ROOT)} imports {flask_imports}"


def test_daos_never_commit_or_select_star():
    for path in python_files("dao"):
        text = path.read_text()
        # a COMMIT statement (the isolation level READ COMMITTED of a read-only refresh is not one)
        assert not re.search(r"\bCOMMIT\b", text) and ".commit(" not in text, path.name
        assert "SELECT *" not in text, path.name


def test_every_dao_module_has_its_test_file():
    for path in python_files("dao"):
        if path.stem in ("__init__", "base"):
            continue
        assert (ROOT / "tests" / f"{path.stem}_test.py").is_file(), f"tests/{path.stem}_test.py missing"


def test_templates_have_no_inline_scripts_or_styles():
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {path.name}"
        assert "style=" not in text and "<style" not in text, f"inline style in {path.name}"


def test_views_treat_head_as_get():
    """Flask answers HEAD with the GET view. A view that tells its page from its form by
    `request.method == "GET"` runs its POST branch for a HEAD request, which CSRF protection lets through
    as a safe method: every such check must name HEAD too."""
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"request\.method\s*(==|!=)\s*[\"']GET[\"']", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
