"""One demo database per test session, copied for each test module that needs it.

Loading the official unit tree and the demo data set takes about twenty seconds, and several
modules need it. The session fixture ``demo_database`` (tests/conftest.py) loads it once,
the first time a test asks for it; the module fixture ``demo`` then gives each module a
copy of its own, so that what a module writes outside its tests' transactions (the reports
``documents`` renders once per module, say) is never seen by another module, and the test
database itself is left as it was.

- PostgreSQL: the demo is loaded into ``<test database>_demo``, created from the migrated
  test database; a module gets ``<test database>_demo_<n>``, made with ``CREATE DATABASE
  … TEMPLATE <test database>_demo`` (a file copy inside the server), and the connection
  points at it until the module ends, when it is dropped.
- SQLite (pytest-django's test database is in memory unless ``TEST["NAME"]`` is set; this
  works either way): the demo is kept in a private in-memory database; a module's copy is
  written over the test database with SQLite's backup API, after the test database's own
  content has been backed up, and that content is written back when the module ends.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured


def demo_database_for(connection):
    """The demo database fitting the connection's backend (SQLite or PostgreSQL)."""
    if connection.vendor == "sqlite":
        return SqliteDemoDatabase(connection)
    if connection.vendor == "postgresql":
        return PostgresDemoDatabase(connection)
    # tiendo.env accepts only sqlite:// and postgres:// URLs, so no other backend gets here
    raise ImproperlyConfigured(f"Tiến Độ runs on SQLite or PostgreSQL, not {connection.vendor}")


class SqliteDemoDatabase:
    def __init__(self, connection):
        self.connection = connection
        self.snapshot: sqlite3.Connection | None = None
        self.counts = None

    def build(self, load: Callable[[], dict]) -> None:
        with self._content_kept():
            self.counts = load()
            self.snapshot = self._backup()

    @contextmanager
    def copy(self) -> Iterator[None]:
        with self._content_kept():
            self._write_over(self.snapshot)
            yield

    def drop(self) -> None:
        if self.snapshot is not None:
            self.snapshot.close()

    @contextmanager
    def _content_kept(self) -> Iterator[None]:
        saved = self._backup()
        try:
            yield
        finally:
            self._write_over(saved)
            saved.close()

    def _backup(self) -> sqlite3.Connection:
        self.connection.ensure_connection()
        target = sqlite3.connect(":memory:", check_same_thread=False)
        self.connection.connection.backup(target)
        return target

    def _write_over(self, source: sqlite3.Connection) -> None:
        self.connection.ensure_connection()
        source.backup(self.connection.connection)
        # content type ids differ between the test database and the demo (flushed, then
        # loaded): Django's cache of them must not carry one's ids into the other
        ContentType.objects.clear_cache()


class PostgresDemoDatabase:
    def __init__(self, connection):
        self.connection = connection
        self.template = f"{connection.settings_dict['NAME']}_demo"
        self.numbers = itertools.count(1)
        self.counts = None

    def build(self, load: Callable[[], dict]) -> None:
        self._create(self.template, template=self.connection.settings_dict["NAME"])
        with self._pointed_at(self.template):
            self.counts = load()

    @contextmanager
    def copy(self) -> Iterator[None]:
        name = f"{self.template}_{next(self.numbers)}"
        self._create(name, template=self.template)
        try:
            with self._pointed_at(name):
                yield
        finally:
            self._drop(name)

    def drop(self) -> None:
        self._drop(self.template)

    @contextmanager
    def _pointed_at(self, name: str) -> Iterator[None]:
        previous = self.connection.settings_dict["NAME"]
        self.connection.close()
        self.connection.settings_dict["NAME"] = name
        ContentType.objects.clear_cache()
        try:
            yield
        finally:
            self.connection.close()
            self.connection.settings_dict["NAME"] = previous
            ContentType.objects.clear_cache()

    def _create(self, name: str, *, template: str) -> None:
        # a template database must have no session open: this process's one is closed
        self.connection.close()
        quote = self.connection.ops.quote_name
        with self.connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
            cursor.execute(f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}")

    def _drop(self, name: str) -> None:
        self.connection.close()
        quote = self.connection.ops.quote_name
        with self.connection.creation._nodb_cursor() as cursor:
            # FORCE: a session a live server's thread left open must not keep it alive
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")
