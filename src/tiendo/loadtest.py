"""`make loadtest`: 50 editors saving figures at once through gunicorn on PostgreSQL.

    python -m tiendo.loadtest            # LOADTEST_SECONDS=120 LOADTEST_EDITORS=50

1. Prepares a dedicated database (``LOADTEST_DATABASE_URL``, by default ``tiendo_loadtest``
   on 127.0.0.1:5432): created if missing, migrated, the real unit tree and the demo loaded
   once, one commune officer per editor (five editors per commune of Huyện Vị Xuyên); the
   communes' values of the period written are removed, so every run creates its cells.
2. Starts gunicorn as `make serve` does (DEBUG off, WhiteNoise, a throw-away SECRET_KEY)
   on 127.0.0.1 and a free port. Nothing is ever sent to any other address.
3. Each editor logs in once (CSRF flow of the login page), then until the time is up or its
   share of ``LOADTEST_MAX_REQUESTS`` is spent: loads the data entry form of its commune,
   changes one figure — four times in five one that no other editor changes, else the one
   figure its commune's five editors all change — and saves the form as a browser would
   (every field the page had, the CSRF token); it thinks ``LOADTEST_THINK`` seconds (10 by
   default, a person's pace of reading and typing; ±50 %) before each request, and starts at
   a random moment of the first think time. A save is counted as accepted from the page's
   "Đã lưu N số liệu". The whole form goes back, as a browser sends it: the version check
   (issue 7, point 4) writes only the figure changed, and refuses it when another editor
   changed it since the form was loaded.
4. Prints requests, server errors, p50/p95 latency, then checks in SQL that no update was
   lost: one history row per accepted save, the latest history row of every touched cell is
   its value, and every rollup row equals the sum and count of its leaves recomputed from
   the values through the closure table. Exits non-zero if any check fails.

A login throttle (django-axes) does not get in the way: each editor logs in once, with the
right password.
"""

from __future__ import annotations

import html.parser
import http.cookiejar
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"  # the only address this load test ever sends to
PROGRAMME = "HG-NQ05"
PERIOD = "2025Q1"
DISTRICT = "Huyện Vị Xuyên"
EDITORS_PER_COMMUNE = 5
PASSWORD = "tai-kiem-thu-tai-2025"
SAVED = re.compile(r"Đã lưu (\d+) số liệu")
LOGINS = threading.Semaphore(2)


def env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw else default


# -- checks (also run by the tests on a small database) ----------------------------------


def rollup_mismatches(connection) -> list[tuple]:
    """Rollup rows that differ from the sum/count of their leaves, and leaves' sums missing a
    rollup row: ``(indicator, unit, period, category, stored total, stored count, expected
    total, expected count)``. Empty when every rollup is right."""
    from tiendo.data.models import DataValue, Rollup

    dv, ru = DataValue._meta.db_table, Rollup._meta.db_table
    expected = f"""
        SELECT dv.indicator_id, ua.ancestor_id AS unit_id, dv.period, dv.category,
               SUM(dv.value) AS total, COUNT(*) AS n
        FROM {dv} dv JOIN units_unitancestor ua ON ua.unit_id = dv.unit_id AND ua.depth > 0
        GROUP BY dv.indicator_id, ua.ancestor_id, dv.period, dv.category
    """
    keys = "e.indicator_id = r.indicator_id AND e.unit_id = r.unit_id AND e.period = r.period AND e.category = r.category"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH e AS ({expected})
            SELECT e.indicator_id, e.unit_id, e.period, e.category, r.total, r.count, e.total, e.n
            FROM e LEFT JOIN {ru} r ON {keys}
            WHERE r.id IS NULL OR r.count <> e.n OR ABS(r.total - e.total) > 0.000001
            UNION ALL
            SELECT r.indicator_id, r.unit_id, r.period, r.category, r.total, r.count, NULL, NULL
            FROM {ru} r LEFT JOIN e ON {keys}
            WHERE e.unit_id IS NULL AND (r.count <> 0 OR r.total <> 0)
            """
        )
        return cursor.fetchall()


def history_since(connection, after_pk: int) -> tuple[int, list[tuple]]:
    """History rows written after ``after_pk``, and the cells they touched whose value is
    not the new value of their latest history row (a lost update)."""
    from tiendo.data.models import DataValue, DataValueChange

    dv, ch = DataValue._meta.db_table, DataValueChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {ch} WHERE id > %s", [after_pk])
        (rows,) = cursor.fetchone()
        cursor.execute(
            f"""
            SELECT c.indicator_id, c.unit_id, c.period, c.category, c.new_value, v.value
            FROM {ch} c
            LEFT JOIN {dv} v ON v.indicator_id = c.indicator_id AND v.unit_id = c.unit_id
                 AND v.period = c.period AND v.category = c.category
            WHERE c.id IN (SELECT MAX(id) FROM {ch} WHERE id > %s
                           GROUP BY indicator_id, unit_id, period, category)
              AND NOT (c.new_value IS NULL AND v.value IS NULL)
              AND (c.new_value IS NULL OR v.value IS NULL OR c.new_value <> v.value)
            """,
            [after_pk],
        )
        return rows, cursor.fetchall()


def last_history_pk(connection) -> int:
    from tiendo.data.models import DataValueChange

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {DataValueChange._meta.db_table}")
        return cursor.fetchone()[0]


def check(connection, *, after_pk: int, accepted: int) -> list[str]:
    """The lost-update checks; each problem as one line (empty: all good)."""
    problems = []
    rows, lost = history_since(connection, after_pk)
    if rows != accepted:
        problems.append(f"history rows {rows} != accepted saves {accepted}")
    for cell in lost[:10]:
        problems.append(f"lost update: cell {cell[:4]} holds {cell[5]}, last saved {cell[4]}")
    if len(lost) > 10:
        problems.append(f"… {len(lost) - 10} more lost updates")
    wrong = rollup_mismatches(connection)
    for row in wrong[:10]:
        problems.append(f"rollup {row[:4]}: stored {row[4]}/{row[5]}, leaves {row[6]}/{row[7]}")
    if len(wrong) > 10:
        problems.append(f"… {len(wrong) - 10} more wrong rollups")
    return problems


# -- preparing the database --------------------------------------------------------------


def prepare(editors: int) -> list[dict]:
    """Migrate and load the dedicated database (once), create the editors' accounts."""
    from django.core.management import call_command

    from tiendo.accounts.models import Role, User
    from tiendo.programmes.models import Programme
    from tiendo.units.models import Unit
    from tiendo.units.services import resolve_unit

    call_command("migrate", "--noinput", verbosity=0)
    if not Unit.objects.exists():
        print("== loading the unit tree (tiendo units load)", flush=True)
        call_command("units", "load")
    if not Programme.objects.filter(code=PROGRAMME).exists():
        print("== loading the demo (tiendo demo load)", flush=True)
        call_command("demo", "load")
    district = Unit.objects.get(parent=resolve_unit("02"), name=DISTRICT)
    communes = list(Unit.objects.filter(parent=district).exclude(kind="agency").order_by("code"))
    needed = -(-editors // EDITORS_PER_COMMUNE)
    if len(communes) < needed:
        raise SystemExit(f"{DISTRICT} has {len(communes)} communes, {needed} needed")
    # every run starts from empty cells: the first saves create them, concurrently
    from tiendo.data.models import DataValue
    from tiendo.data.services import rebuild_rollups

    DataValue.objects.filter(
        unit__in=communes, period=PERIOD, indicator__programme__code=PROGRAMME
    ).delete()
    rebuild_rollups()
    accounts = []
    for i in range(editors):
        commune = communes[i // EDITORS_PER_COMMUNE]
        username = f"taitai{i:02d}"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": Role.COMMUNE_OFFICER, "unit": commune, "first_name": username},
        )
        if created or user.unit_id != commune.pk:
            user.unit, user.role = commune, Role.COMMUNE_OFFICER
            user.set_password(PASSWORD)
            user.save()
        accounts.append({"username": username, "unit": commune.pk, "slot": i % EDITORS_PER_COMMUNE})
    return accounts


# -- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "tiendo", "collectstatic", "--noinput", "-v0"], env=env, check=True)
    server = subprocess.Popen(
        [bin_dir / "gunicorn", "-c", "python:tiendo.gunicorn_conf", "tiendo.wsgi"],
        env={**env, "BIND": f"{HOST}:{port}", "GUNICORN_ACCESS_LOG": ""},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped before answering")
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/dang-nhap/", timeout=5).read()
            return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def cpu_seconds(server_pid: int, database: str) -> float:
    """CPU time used so far by gunicorn's workers and by the PostgreSQL backends of the
    load-test database (Linux /proc). Divided by the requests served, it is what a request
    costs whatever else the machine is doing at the time."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        if ppid == server_pid or (cmdline.startswith("postgres:") and f" {database} " in cmdline):
            total += (utime + stime) / tick
    return total


# -- the editors ---------------------------------------------------------------------------


class FormParser(html.parser.HTMLParser):
    """The fields of the POST forms of a page, as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"].append([a["name"], a.get("value") or ""])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def post_form(page: str, action_part: str) -> list[list[str]]:
    parser = FormParser()
    parser.feed(page)
    for form in parser.forms:
        if action_part in form["action"]:
            return form["fields"]
    raise LookupError(f"no POST form to {action_part}")


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    save_latencies: list[float] = field(default_factory=list)
    login_latencies: list[float] = field(default_factory=list)
    requests: int = 0
    server_errors: int = 0
    no_answer: int = 0  # timed out (60 s) or connection refused or reset
    other_errors: list[str] = field(default_factory=list)
    accepted: int = 0
    saves: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Editor:
    def __init__(self, base: str, account: dict, stats: Stats, budget: int, rng: random.Random):
        self.base, self.account, self.stats, self.budget, self.rng = (
            base,
            account,
            stats,
            budget,
            rng,
        )
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.counter = 0
        self.logged_in = False

    def request(
        self, path: str, data: list | None = None, *, timed: bool = True
    ) -> tuple[int, str, str]:
        if self.budget <= 0:
            raise StopIteration
        self.budget -= 1
        body = (
            urllib.parse.urlencode([tuple(f) for f in data]).encode() if data is not None else None
        )
        start = time.perf_counter()
        status, text, url = 0, "", ""
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                status, text, url = response.status, response.read().decode(), response.url
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            status = -1
            text = str(exc)
        elapsed = time.perf_counter() - start
        with self.stats.lock:
            self.stats.requests += 1
            if timed:
                self.stats.latencies.append(elapsed)
                if data is not None:
                    self.stats.save_latencies.append(elapsed)
            else:
                self.stats.login_latencies.append(elapsed)
            if status >= 500:
                self.stats.server_errors += 1
            elif status < 0:
                self.stats.no_answer += 1
            elif status != 200:
                self.stats.other_errors.append(f"{status} {path}")
        return status, text, url

    def login(self) -> None:
        """Log in once, with the right password (a login throttle never counts a failure).

        Not timed with the editing: checking a password costs about a second of CPU on
        purpose (PBKDF2), so the editors log in two at a time before the clock starts."""
        self.logged_in = False
        with LOGINS:
            status, page, _url = self.request("/dang-nhap/", timed=False)
            if status != 200:
                return
            fields = dict(post_form(page, "dang-nhap"))
            fields.update(username=self.account["username"], password=PASSWORD)
            status, _page, url = self.request("/dang-nhap/", list(fields.items()), timed=False)
        self.logged_in = status == 200 and "/dang-nhap/" not in url
        if not self.logged_in:
            with self.stats.lock:
                self.stats.other_errors.append(f"login failed: {self.account['username']}")

    def run(self, deadline: float, think: float) -> None:
        try:
            self._run(deadline, think)
        except Exception as exc:  # a broken editor is a failed run, never a silent one
            with self.stats.lock:
                self.stats.other_errors.append(f"{self.account['username']}: {exc!r}")

    def _run(self, deadline: float, think: float) -> None:
        if not self.logged_in:
            return
        # Editors start at random moments of the first think time, as people do: fifty
        # requests in the same millisecond at the start would measure a burst no office makes.
        time.sleep(think * self.rng.uniform(0, 1))
        try:
            query = urllib.parse.urlencode(
                {"programme": PROGRAMME, "unit": self.account["unit"], "period": PERIOD}
            )
            while time.monotonic() < deadline:
                status, page, _url = self.request(f"/nhap-so-lieu/?{query}")
                if status != 200:
                    continue
                time.sleep(think * self.rng.uniform(0.5, 1.5))
                self.save(page)
                time.sleep(think * self.rng.uniform(0.5, 1.5))
        except StopIteration:
            return

    def save(self, page: str) -> None:
        fields = post_form(page, "nhap-so-lieu")
        value_fields = [f for f in fields if f[0].startswith("v-")]
        shared = self.rng.random() < 0.2
        slot = self.account["slot"]
        own = [f for i, f in enumerate(value_fields) if i and i % EDITORS_PER_COMMUNE == slot]
        target = value_fields[0] if shared or not own else self.rng.choice(own)
        self.counter += 1
        # a new value every time, never one already there: every accepted save is a change
        target[1] = str(int(self.account["username"][-2:]) * 100000 + self.counter)
        status, reply, _url = self.request("/nhap-so-lieu/", fields)
        match = SAVED.search(reply) if status == 200 else None
        with self.stats.lock:
            self.stats.saves += 1
            self.stats.accepted += int(match.group(1)) if match else 0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


@dataclass(frozen=True)
class Plan:
    """What `make loadtest` runs, from LOADTEST_* environment variables."""

    seconds: float
    editors: int
    max_requests: int
    think: float
    database_url: str

    @classmethod
    def from_environment(cls) -> Plan:
        database_url = os.environ.get(
            "LOADTEST_DATABASE_URL", f"postgres://postgres@{HOST}:5432/tiendo_loadtest"
        )
        if not database_url.startswith("postgres"):
            raise SystemExit("LOADTEST_DATABASE_URL must be a PostgreSQL database")
        return cls(
            seconds=env_number("LOADTEST_SECONDS", 120),
            editors=int(env_number("LOADTEST_EDITORS", 50)),
            max_requests=int(env_number("LOADTEST_MAX_REQUESTS", 20000)),
            think=env_number("LOADTEST_THINK", 10.0),
            database_url=database_url,
        )


def main() -> int:
    plan = Plan.from_environment()
    ensure_database(plan.database_url)
    env = {
        **os.environ,
        "DATABASE_URL": plan.database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiendo.settings")
    import django

    django.setup()
    from django.db import connection

    accounts = prepare(plan.editors)
    port = free_port()
    server = start_server(port, env)
    try:
        after_pk = last_history_pk(connection)
        connection.close()
        stats = Stats()
        elapsed, cpu = run_load(plan, f"http://{HOST}:{port}", accounts, stats, server.pid)
    finally:
        server.terminate()
        server.wait(30)
    report(stats, elapsed, cpu)
    return verdict(check(connection, after_pk=after_pk, accepted=stats.accepted), stats)


def run_load(plan: Plan, base: str, accounts: list, stats: Stats, server_pid: int):
    """Log every editor in, then let them edit until the deadline: (seconds, CPU seconds)."""
    print(
        f"== {plan.editors} editors for {plan.seconds:g} s on {base} (think {plan.think:g} s, "
        f"at most {plan.max_requests} requests)",
        flush=True,
    )
    crew = [
        Editor(base, a, stats, plan.max_requests // plan.editors, random.Random(i))
        for i, a in enumerate(accounts)
    ]
    _run_threads([threading.Thread(target=e.login) for e in crew], 300)
    print(f"== {sum(e.logged_in for e in crew)} editors logged in", flush=True)
    database = urllib.parse.urlsplit(plan.database_url).path.lstrip("/")
    cpu_before = cpu_seconds(server_pid, database)
    deadline = time.monotonic() + plan.seconds
    started = time.monotonic()
    _run_threads(
        [threading.Thread(target=e.run, args=(deadline, plan.think)) for e in crew],
        plan.seconds + 60,
    )
    elapsed = time.monotonic() - started
    return elapsed, cpu_seconds(server_pid, database) - cpu_before


def _run_threads(threads: list[threading.Thread], timeout: float) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


def report(stats: Stats, elapsed: float, cpu: float) -> None:
    lat = [x * 1000 for x in stats.latencies]
    print(
        f"requests          {stats.requests} in {elapsed:.0f} s ({stats.requests / elapsed:.1f}/s)"
    )
    print(f"server errors     {stats.server_errors} (HTTP 5xx)")
    print(f"no answer         {stats.no_answer} (no reply within 60 s, or connection lost)")
    print(f"other errors      {len(stats.other_errors)} {stats.other_errors[:5]}")
    print(f"saves             {stats.saves} posted, {stats.accepted} figures accepted")
    print(f"latency p50       {percentile(lat, 50):.0f} ms")
    print(f"latency p95       {percentile(lat, 95):.0f} ms (target ≤ 250 ms)")
    print(f"latency max       {max(lat, default=0):.0f} ms")
    saves = [x * 1000 for x in stats.save_latencies]
    print(
        f"saves alone       p50 {percentile(saves, 50):.0f} ms, p95 {percentile(saves, 95):.0f} ms"
    )
    print(
        f"CPU per request   {cpu * 1000 / max(len(stats.latencies), 1):.0f} ms (gunicorn workers + PostgreSQL "
        f"backends, {cpu:.0f} s in all)"
    )
    print(f"machine load      {os.getloadavg()[0]:.1f} (1-minute load average at the end)")
    login = [x * 1000 for x in stats.login_latencies]
    print(f"login (untimed)   {len(login)} requests, p50 {percentile(login, 50):.0f} ms")


def verdict(problems: list[str], stats: Stats) -> int:
    """Print the lost updates found and PASS or FAIL; the exit status."""
    if problems and stats.no_answer:
        problems.append(
            f"{stats.no_answer} requests had no answer: a save among them may have been "
            "written without the driver knowing"
        )
    for p in problems:
        print(f"!! {p}")
    if not problems:
        print("lost updates      0 (history rows = accepted saves; every rollup = its leaves)")
    failed = bool(problems or stats.server_errors or stats.no_answer or stats.other_errors)
    print("== FAIL" if failed else "== PASS")
    return 1 if failed else 0


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in (HOST, "localhost"):
        raise SystemExit("the load test runs on a database on 127.0.0.1 only")
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    sys.exit(main())
