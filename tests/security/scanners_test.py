"""Static and dependency scanners (ASVS 4.0.3 V14.2.1, V5.3.4 via bandit B608, V14.3.2 via B201; figure 12
of shared/docs/security-reliability.md §7; docs/scanners.md).

- bandit over app/ (severity medium and high, every confidence): 0 findings. An accepted finding is
  marked inline on its line as ``# nosec B608 # <reason>`` (the test id, then the reason after a
  second ``#``: bandit would read bare words after the id as test names). Every ``nosec`` in app/
  must name its test id(s) and give a reason, and must sit on a line bandit reports without it (no
  stale or blanket marks).
- pip-audit over requirements.txt (security/check_dependencies.py): 0 vulnerabilities outside
  security/pip-audit-exceptions.toml, 0 expired or malformed exceptions. When pip-audit cannot audit
  the packages (no reachable vulnerability service: this machine's PyPI mirror has no per-version
  JSON), the test is a skip that says so, never a pass. The judging logic itself is proven on
  made-up reports.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import importlib.util
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BANDIT = [sys.executable, "-m", "bandit", "-r", "app", "-q", "-f", "json", "-ll"]  # the same as `make scan`
NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$")
MARK = re.compile(r"#\s*nosec (?P<ids>B\d{3}(?:,\s*B\d{3})*) # (?P<reason>\S.{15,})$")


def _bandit(*extra: str) -> dict:
    if importlib.util.find_spec("bandit") is None:
        pytest.fail("bandit is not installed: make install-dev (requirements-dev.txt)")
    done = subprocess.run([*BANDIT, *extra], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    start = done.stdout.find("{")
    assert start >= 0, f"bandit gave no report (exit {done.returncode}): {done.stderr[-800:]}"
    return json.loads(done.stdout[start:])


def _marks() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = NOSEC.search(line)
            if match:
                found.append((str(path.relative_to(ROOT)), number, line[match.start():]))
    return found


@pytest.fixture(scope="module")
def bandit_review():
    """One bandit run with the marks ignored; each finding is then reviewed (a well-formed mark for its
    test id on one of its lines) or not. ``make scan`` runs bandit honouring the marks: the same verdict."""
    report = _bandit("--ignore-nosec")
    assert report["errors"] == [], report["errors"]
    marks = {}
    for path, number, comment in _marks():
        match = MARK.search(comment)
        marks[(path, number)] = set(re.split(r",\s*", match["ids"])) if match else None
    reviewed, unreviewed, used = [], [], set()
    for r in report["results"]:
        path = r["filename"].removeprefix("./")
        lines = r.get("line_range") or [r["line_number"]]
        span = range(min(lines), max(lines) + 2)
        hit = [(path, n) for n in span if r["test_id"] in (marks.get((path, n)) or ())]
        (reviewed if hit else unreviewed).append((r["test_id"], path, r["line_number"], r["issue_text"]))
        used.update((key, r["test_id"]) for key in hit)
    return {"marks": marks, "reviewed": reviewed, "unreviewed": unreviewed, "used": used}


def test_bandit_reports_no_unreviewed_medium_or_high_finding(bandit_review):
    findings = bandit_review["unreviewed"]
    print(f"bandit: {len(findings)} unreviewed, {len(bandit_review['reviewed'])} marked with a reason")
    assert findings == [], "\n".join(map(str, findings))


def test_every_nosec_mark_names_its_test_and_gives_a_reason(bandit_review):
    marks, used = bandit_review["marks"], bandit_review["used"]
    bad = [key for key, ids in marks.items() if ids is None]
    stale = [(key, test_id) for key, ids in marks.items() for test_id in (ids or ()) if (key, test_id) not in used]
    print(f"nosec marks: {len(marks)}, {len(bad)} without test id or reason, {len(stale)} stale")
    assert not bad, "a nosec needs '# nosec BXXX # reason':\n" + "\n".join(map(str, bad))
    assert not stale, "nosec on a line bandit does not report:\n" + "\n".join(map(str, stale))


def _checker():
    spec = importlib.util.spec_from_file_location("check_dependencies", ROOT / "security" / "check_dependencies.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_dependencies", module)  # its dataclasses look their module up
    spec.loader.exec_module(sys.modules["check_dependencies"])
    return sys.modules["check_dependencies"]


def test_pip_audit_finds_no_vulnerability_outside_the_dated_exceptions():
    checker = _checker()
    if importlib.util.find_spec("pip_audit") is None:
        pytest.fail("pip-audit is not installed: make install-dev (requirements-dev.txt)")
    verdict = checker.judge(checker.with_latest_fallback(checker.audit()), checker.load_exceptions(), date.today())
    print(f"pip-audit: {len(verdict.audited)} audited, {len(verdict.unaudited)} not audited, "
          f"{len(verdict.unaccepted)} unaccepted, {len(verdict.accepted)} accepted, {len(verdict.expired)} expired")
    assert not verdict.malformed, verdict.malformed
    assert not verdict.expired, f"expired exceptions (review them): {verdict.expired}"
    assert not verdict.unaccepted, f"known-vulnerable pins: {verdict.unaccepted}"
    if verdict.unaudited:
        reasons = sorted(set(verdict.unaudited.values()))
        pytest.skip(f"pip-audit could not audit {len(verdict.unaudited)} of "
                    f"{len(verdict.unaudited) + len(verdict.audited)} packages, so there is no verdict; "
                    f"e.g. {reasons[0]!r} (docs/scanners.md)")
    assert verdict.audited


def test_the_latest_release_fallback_audits_only_pins_that_are_the_latest_release():
    checker = _checker()
    skipped = "Dependency not found on PyPI and could not be audited: {} ({})"
    report = {"dependencies": [
        {"name": "pycrypto", "skip_reason": skipped.format("pycrypto", "2.6.1")},
        {"name": "click", "skip_reason": skipped.format("click", "8.3.1")},
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "gone", "skip_reason": skipped.format("gone", "1.0")},
    ]}
    index = {"pycrypto": {"version": "2.6.1", "vulnerabilities": [
                 {"id": "PYSEC-2018-97", "aliases": ["CVE-2018-6594"], "fixed_in": []},
                 {"id": "OLD", "aliases": [], "fixed_in": [], "withdrawn": "2020-01-01"}]},
             "click": {"version": "8.5.1", "vulnerabilities": []}}
    fetched = []
    result = checker.with_latest_fallback(report, fetch=lambda name: fetched.append(name) or index.get(name))
    verdict = checker.judge(result, [], date(2026, 12, 1))
    assert fetched == ["pycrypto", "click", "gone"]  # pip-audit's own answers are not second-guessed
    assert [(v["package"], v["id"]) for v in verdict.unaccepted] == [("pycrypto", "PYSEC-2018-97")]
    assert sorted(verdict.audited) == ["flask==3.1.3", "pycrypto==2.6.1"]
    assert "not the latest release (8.5.1)" in verdict.unaudited["click"]
    assert "could not be reached" in verdict.unaudited["gone"]


def test_the_exceptions_judgement_on_made_up_reports():
    checker = _checker()
    report = {"dependencies": [
        {"name": "Flask", "version": "3.1.3", "vulns": [{"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["9"]}]},
        {"name": "jinja2", "version": "3.1.6", "vulns": [{"id": "GHSA-2", "aliases": [], "fix_versions": []}]},
        {"name": "click", "version": "8.3.1", "vulns": []},
        {"name": "pillow", "skip_reason": "Dependency not found on PyPI and could not be audited: pillow (13.0.0)"},
    ]}
    today = date(2026, 12, 1)
    flask_ok = {"id": "CVE-1", "package": "flask", "version": "3.1.3", "reason": "not reachable", "expires": date(2027, 1, 1)}
    verdict = checker.judge(report, [flask_ok], today)
    assert [v["id"] for v in verdict.accepted] == ["PYSEC-1"] and [v["id"] for v in verdict.unaccepted] == ["GHSA-2"]
    assert verdict.unaudited == {"pillow": report["dependencies"][3]["skip_reason"]} and verdict.failed
    assert sorted(verdict.audited) == ["click==8.3.1", "flask==3.1.3", "jinja2==3.1.6"]
    expired = checker.judge(report, [{**flask_ok, "expires": date(2026, 11, 30)}], today)
    assert expired.expired and [v["id"] for v in expired.unaccepted] == ["PYSEC-1", "GHSA-2"]
    other_version = checker.judge(report, [{**flask_ok, "version": "3.1.2"}], today)
    assert [v["id"] for v in other_version.unaccepted] == ["PYSEC-1", "GHSA-2"]
    assert checker.judge(report, [{"id": "CVE-1", "package": "flask"}], today).malformed
    clean = checker.judge({"dependencies": [report["dependencies"][2]]}, [], today)
    assert not clean.failed and not clean.unaudited and clean.audited == ["click==8.3.1"]
    # the shipped exceptions file parses and every entry is complete
    assert not checker.judge({"dependencies": []}, checker.load_exceptions(), today).malformed
