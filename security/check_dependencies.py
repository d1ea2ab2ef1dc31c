"""Known-vulnerability check of the pinned runtime requirements (ASVS 4.0.3 V14.2.1; docs/scanners.md).

Runs pip-audit over requirements.txt (every line pinned with ==, so no resolver and no install:
``--no-deps --disable-pip``), then judges its answer against security/pip-audit-exceptions.toml:

- a reported vulnerability is accepted only while an exception names its id (or one of its aliases),
  the package and the version, with a reason and an expiry date that has not passed;
- an exception past its expiry date is a failure of its own (review it: fix, or renew with a reason);
- a package pip-audit could not audit (for instance the vulnerability service cannot be reached, or the
  package index has no per-version data) is *not* a pass. It gets one second chance: PyPI's project
  JSON (``/pypi/<name>/json``, which this machine's index does serve) lists the known vulnerabilities
  of the project's *latest* release, in the same OSV form pip-audit reads. When the pin is that latest
  release, that list is exactly the answer for the pin, so the package counts as audited (source
  "pypi-latest"). A pin behind the latest release stays "not audited" (upgrade it, or audit elsewhere).

``python security/check_dependencies.py`` prints the verdict and exits 0 (clean), 1 (unaccepted or expired),
2 (some packages could not be audited). tests/security/scanners_test.py calls ``audit()`` and ``judge()``.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
EXCEPTIONS = ROOT / "security" / "pip-audit-exceptions.toml"


@dataclass
class Verdict:
    audited: list[str] = field(default_factory=list)           # "name==version" pip-audit checked
    unaudited: dict[str, str] = field(default_factory=dict)    # name -> pip-audit's skip reason
    unaccepted: list[dict] = field(default_factory=list)       # {"package", "version", "id", "aliases", "fix_versions"}
    accepted: list[dict] = field(default_factory=list)
    expired: list[dict] = field(default_factory=list)          # exceptions past their date
    malformed: list[str] = field(default_factory=list)         # exceptions missing a field

    @property
    def failed(self) -> bool:
        return bool(self.unaccepted or self.expired or self.malformed)


def audit(requirements: Path = REQUIREMENTS, timeout: int = 300) -> dict:
    """pip-audit's JSON report for ``requirements`` (raises RuntimeError when pip-audit itself fails)."""
    command = [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip",
               "-f", "json", "--progress-spinner", "off"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    start = done.stdout.find("{")
    if start < 0:
        raise RuntimeError(f"pip-audit gave no report (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout[start:])


def project_latest(name: str, timeout: int = 20) -> dict | None:
    """PyPI's project JSON for ``name`` ({"version", "vulnerabilities"}), or None when unreachable."""
    import urllib.request

    url = f"https://pypi.org/pypi/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310 # a constant https URL
            data = json.load(response)
    except (OSError, ValueError):
        return None
    return {"version": str(data.get("info", {}).get("version", "")), "vulnerabilities": data.get("vulnerabilities") or []}


def with_latest_fallback(report: dict, fetch=project_latest) -> dict:
    """``report`` with each package pip-audit skipped re-audited from PyPI's latest-release data when the
    pin is the latest release (module doc); others keep their skip reason, extended with why."""
    dependencies = []
    for dep in report.get("dependencies", []):
        if "skip_reason" not in dep:
            dependencies.append(dep)
            continue
        name, version = str(dep.get("name", "")), str(dep.get("version", ""))
        if not version:  # pip-audit's skip entries carry the version only inside the reason
            version = dep["skip_reason"].rsplit("(", 1)[-1].rstrip(")").strip()
        latest = fetch(name)
        if latest is not None and latest["version"] == version:
            vulns = [{"id": v.get("id"), "aliases": v.get("aliases") or [], "fix_versions": v.get("fixed_in") or []}
                     for v in latest["vulnerabilities"] if not v.get("withdrawn")]
            dependencies.append({"name": name, "version": version, "vulns": vulns, "source": "pypi-latest"})
        else:
            why = ("PyPI could not be reached" if latest is None
                   else f"the pin is not the latest release ({latest['version']})")
            dependencies.append({**dep, "skip_reason": f"{dep['skip_reason']}; {why}"})
    return {**report, "dependencies": dependencies}


def load_exceptions(path: Path = EXCEPTIONS) -> list[dict]:
    if not path.exists():
        return []
    with path.open("rb") as handle:
        return list(tomllib.load(handle).get("exception", []))


REQUIRED = ("id", "package", "version", "reason", "expires")


def judge(report: dict, exceptions: list[dict], today: date) -> Verdict:
    verdict = Verdict()
    usable = []
    for entry in exceptions:
        missing = [k for k in REQUIRED if not entry.get(k)]
        if missing or not isinstance(entry.get("expires"), date):
            verdict.malformed.append(f"{entry.get('id', '?')}: missing or bad {missing or ['expires (a TOML date)']}")
        elif entry["expires"] < today:
            verdict.expired.append(entry)
        else:
            usable.append(entry)
    for dep in report.get("dependencies", []):
        name = str(dep.get("name", "")).lower()
        if "skip_reason" in dep:
            verdict.unaudited[name] = dep["skip_reason"]
            continue
        version = str(dep.get("version", ""))
        verdict.audited.append(f"{name}=={version}")
        for vuln in dep.get("vulns", []):
            ids = {vuln.get("id"), *vuln.get("aliases", [])}
            found = {"package": name, "version": version, "id": vuln.get("id"), "aliases": vuln.get("aliases", []),
                     "fix_versions": vuln.get("fix_versions", [])}
            match = [e for e in usable if e["id"] in ids and str(e["package"]).lower() == name
                     and str(e["version"]) == version]
            (verdict.accepted if match else verdict.unaccepted).append(found)
    return verdict


def main() -> int:
    verdict = judge(with_latest_fallback(audit()), load_exceptions(), date.today())
    for item in verdict.unaccepted:
        print(f"VULNERABLE {item['package']}=={item['version']}: {item['id']} {item['aliases']} "
              f"(fixed in {', '.join(item['fix_versions']) or 'no release yet'})")
    for entry in verdict.expired:
        print(f"EXPIRED exception {entry['id']} for {entry['package']} {entry['version']} (expired {entry['expires']})")
    for text in verdict.malformed:
        print(f"MALFORMED exception {text}")
    for item in verdict.accepted:
        print(f"accepted {item['package']}=={item['version']}: {item['id']} (see {EXCEPTIONS.name})")
    print(f"pip-audit: {len(verdict.audited)} packages audited, {len(verdict.unaudited)} not audited")
    if verdict.failed:
        return 1
    if verdict.unaudited:
        reasons = sorted(set(verdict.unaudited.values()))
        print(f"NOT AUDITED: {', '.join(sorted(verdict.unaudited))}\n  first reason: {reasons[0]}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
