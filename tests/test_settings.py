"""Production is the default: each case starts the settings in a fresh process with exactly
the environment an operator would give it."""

from __future__ import annotations

import os
import subprocess
import sys

PRODUCTION = {
    # the documented production environment (README, Configuration)
    "SECRET_KEY": "k3Jx9-vQz_Lr8TnWc2YbHf5UeGm7SaPo4DiVl1NqXhZtRyEwBu6",
    "ALLOWED_HOSTS": "tiendo.example.gov.vn",
    "HTTPS": "true",
}


def run(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        # only what an operator sets: not the test run's own switches (the browser tests'
        # DJANGO_ALLOW_ASYNC_UNSAFE is itself a deploy-check error)
        if k not in {"DEBUG", "SECRET_KEY", "HTTPS", "ALLOWED_HOSTS", "DATABASE_URL"}
        and not k.startswith("DJANGO_")
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="tiendo.settings",
        TIENDO_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{(tmp_path / 'db.sqlite3').as_posix()}",
        **env,
    )
    setup = "import django; django.setup(); from django.conf import settings; "
    return subprocess.run(
        [sys.executable, "-c", setup + code],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_nothing_set_the_system_refuses_to_start_without_a_secret_key(tmp_path):
    result = run("print('started')", tmp_path)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_with_only_a_secret_key_debug_is_off(tmp_path):
    result = run("print(settings.DEBUG)", tmp_path, SECRET_KEY=PRODUCTION["SECRET_KEY"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_demo_turns_debug_on(tmp_path):
    result = run("print(settings.DEBUG)", tmp_path, DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_a_malformed_debug_value_is_refused(tmp_path):
    result = run("print(settings.DEBUG)", tmp_path, DEBUG="maybe", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "DEBUG='maybe'" in result.stderr


def test_https_turns_on_hsts_secure_cookies_and_the_proxy_header(tmp_path):
    code = (
        "print(settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT, "
        "settings.SECURE_PROXY_SSL_HEADER)"
    )
    result = run(code, tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(maxsplit=4) == [
        "31536000",
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO', 'https')\n",
    ]


def test_check_deploy_is_clean_under_the_documented_production_environment(tmp_path):
    code = (
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING'); print('clean')"
    )
    result = run(code, tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "clean" in result.stdout
    assert "WARNINGS" not in result.stderr and "ERRORS" not in result.stderr


def test_check_deploy_warns_when_served_without_https(tmp_path):
    code = (
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    env = {**PRODUCTION, "HTTPS": "false"}
    result = run(code, tmp_path, **env)
    assert result.returncode != 0
    assert "security.W012" in result.stderr  # the session cookie is not Secure
