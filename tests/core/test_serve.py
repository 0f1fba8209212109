"""`make serve`: gunicorn with DEBUG off, static files collected and served by WhiteNoise."""

import importlib
from pathlib import Path

from django.core.management import call_command
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_static_files_are_served_by_the_application_itself_with_debug_off(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)

    response = Client().get("/static/tiendo/tiendo.css", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"  # compressed once, at collectstatic
    assert response["Content-Type"].startswith("text/css")


def test_make_serve_runs_gunicorn_with_debug_off_after_collecting_static_files():
    recipe = (ROOT / "Makefile").read_text().split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "DEBUG=false $(BIN)/tiendo collectstatic" in recipe
    assert "DEBUG=false $(BIN)/gunicorn -c python:tiendo.gunicorn_conf tiendo.wsgi" in recipe
    assert "runserver" not in recipe


def test_gunicorn_settings_come_from_the_documented_variables(monkeypatch):
    monkeypatch.setenv("BIND", "127.0.0.1:9001")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    import tiendo.gunicorn_conf as conf

    conf = importlib.reload(conf)
    assert (conf.bind, conf.workers, conf.threads) == ("127.0.0.1:9001", 3, 8)
    assert conf.worker_class == "gthread"
    readme = (ROOT / "README.md").read_text()
    for variable in ("BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "SECRET_KEY"):
        assert f"`{variable}`" in readme
