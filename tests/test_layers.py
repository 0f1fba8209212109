"""The apps import one way: the import-linter contracts in pyproject.toml hold.

The contracts are also run against a tiny package built in a temporary folder with the same
layers, to show that they do catch a wrong import rather than pass whatever the code does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
FAKE = "fakeroot"


def lint_imports(config: Path, *, cwd: Path, pythonpath: Path | None = None):
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def project_contracts() -> list[dict]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["importlinter"]["contracts"]


def renamed(value: str) -> str:
    return value.replace("tiendo.", f"{FAKE}.")


def fake_config(folder: Path) -> Path:
    """The project's contracts, for a package ``fakeroot`` with the same modules (INI form).
    Ignored imports are left out: they name modules the fake package does not have."""
    lines = ["[importlinter]", f"root_package = {FAKE}", ""]
    for number, contract in enumerate(project_contracts()):
        lines.append(f"[importlinter:contract:{number}]")
        for key, value in contract.items():
            if key == "ignore_imports":
                continue
            if isinstance(value, list):
                lines.append(f"{key} =")
                lines += [f"    {renamed(item)}" for item in value]
            else:
                lines.append(f"{key} = {value}")
        lines.append("")
    config = folder / ".importlinter"
    config.write_text("\n".join(lines))
    return config


def fake_package(folder: Path) -> None:
    """One empty module for every app and project module the contracts name."""
    names = set()
    for contract in project_contracts():
        for key in ("layers", "source_modules", "forbidden_modules"):
            names.update(renamed(name).strip("()") for name in contract.get(key, []))
    (folder / FAKE).mkdir()
    (folder / FAKE / "__init__.py").write_text("")
    for name in names:
        package = folder / Path(*name.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")


def check_fake(tmp_path: Path, module: str, source: str):
    fake_package(tmp_path)
    (tmp_path / FAKE / Path(*module.split("."))).with_suffix(".py").write_text(source)
    return lint_imports(fake_config(tmp_path), cwd=tmp_path, pythonpath=tmp_path)


def test_the_project_keeps_its_import_contracts():
    result = lint_imports(ROOT / "pyproject.toml", cwd=ROOT, pythonpath=ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_downward_import_keeps_the_contracts(tmp_path):
    result = check_fake(tmp_path, "analytics.views", f"from {FAKE}.data import models\n")
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_layers(tmp_path):
    result = check_fake(tmp_path, "core.views", f"from {FAKE}.programmes import models\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{FAKE}.core is not allowed to import {FAKE}.programmes" in result.stdout
    assert f"{FAKE}.core.views -> {FAKE}.programmes" in result.stdout


def test_an_app_importing_the_project_settings_breaks_the_contracts(tmp_path):
    result = check_fake(tmp_path, "data.views", f"from {FAKE} import settings\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{FAKE}.data.views -> {FAKE}.settings" in result.stdout
