"""scripts/debian-packages: the one check of the Debian packages the tests need.

Run with stand-ins for dpkg-query, apt-get and id first on PATH, so nothing is installed or
removed on the machine running the tests.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "debian-packages"
NEEDED = [
    "chromium",
    "libreoffice-writer-nogui",
    "libreoffice-calc-nogui",
    "fonts-liberation2",
    "poppler-utils",
    "postgresql-client",
]

FAKES = {
    # installed packages are the words of $FAKE_INSTALLED
    "dpkg-query": """#!/bin/sh
for p in $FAKE_INSTALLED; do
  [ "$p" = "$3" ] && { printf 'install ok installed'; exit 0; }
done
exit 1
""",
    "apt-get": """#!/bin/sh
echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND apt-get $*" >> "$FAKE_LOG"
""",
    "id": """#!/bin/sh
echo "$FAKE_UID"
""",
}


@pytest.fixture
def fake_bin(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in FAKES.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    return bin_dir


def run(fake_bin, *, uid: int, installed: list[str]):
    log = fake_bin.parent / "apt.log"
    env = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "FAKE_UID": str(uid),
        "FAKE_INSTALLED": " ".join(installed),
        "FAKE_LOG": str(log),
    }
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls


def test_as_root_it_installs_only_the_missing_packages_without_questions(fake_bin):
    result, calls = run(fake_bin, uid=0, installed=["chromium", "poppler-utils"])

    assert result.returncode == 0, result.stderr
    missing = [p for p in NEEDED if p not in ("chromium", "poppler-utils")]
    assert calls == [
        "DEBIAN_FRONTEND=noninteractive apt-get update -qq",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
        + " ".join(missing),
    ]


def test_as_another_user_it_prints_the_command_and_stops(fake_bin):
    result, calls = run(fake_bin, uid=1000, installed=["chromium"])

    assert result.returncode == 1
    assert calls == []
    missing = " ".join(p for p in NEEDED if p != "chromium")
    assert f"apt-get update && apt-get install -y --no-install-recommends {missing}" in (
        result.stderr
    )
    assert "DEBIAN_FRONTEND=noninteractive" in result.stderr


def test_with_everything_installed_it_does_nothing(fake_bin):
    for uid in (0, 1000):
        result, calls = run(fake_bin, uid=uid, installed=NEEDED)
        assert result.returncode == 0
        assert calls == []
        assert result.stdout == result.stderr == ""


def test_make_test_and_ci_use_the_script():
    makefile = (ROOT / "Makefile").read_text()
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/debian-packages" in test_recipe
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/debian-packages" in ci
    assert "apt-get" not in ci  # one copy of the package list: the script's
    assert os.access(SCRIPT, os.X_OK)
