"""Every page, four personas: anonymous, another unit, read-only, allowed.

The personas work in the mini tree: Tuyên Quang (today) took over Hà Giang (before 2025);
Quảng Trị is another province. Every view answers through ``tiendo.accounts.scope``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from tests import factories
from tests.cooperatives import access_helpers as ch
from tests.ntm.agency_helpers import access_sponsorship
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry, Notification
from tiendo.data.models import DataValue
from tiendo.programmes.models import Programme
from tiendo.reporting.recipients import digest
from tiendo.units.models import UnitChange


@pytest.fixture
def world(tree):
    prog = factories.programme("P1", "Chương trình thử")
    factories.indicator(prog, "HH", name="Số hộ tham gia")
    return {
        "tree": tree,
        "prog": prog,
        "officer": factories.user("canbo.bacquang", tree.bac_quang, Role.AGENCY_OFFICER),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "stranger": factories.user("canbo.quangtri", tree.other_province, Role.COORDINATOR),
    }


def unit_pages(tree):
    """(name, url) of every page that shows one unit of the tree: Bắc Quang here."""
    unit = tree.bac_quang.pk
    return [
        ("unit detail", reverse("units:detail", args=[unit])),
        ("unit children", reverse("units:children", args=[unit])),
        ("programme table", reverse("analytics:programme", args=["P1"]) + f"?unit={unit}"),
        (
            "programme drill",
            reverse("analytics:drill", args=["P1"]) + f"?unit={unit}&indicator=HH&period=2024",
        ),
        ("data entry", reverse("data:entry") + f"?programme=P1&unit={unit}&period=2024"),
    ]


def all_pages(tree):
    return [
        ("home", reverse("home")),
        ("unit list", reverse("units:list")),
        ("programme list", reverse("programmes:list")),
        *unit_pages(tree),
    ]


def entry_post(tree, value="12"):
    ind = Programme.objects.get(code="P1").indicators.get(code="HH")
    return {
        "programme": "P1",
        "unit": tree.bac_quang.pk,
        "period": "2024",
        f"v-{ind.pk}-": value,
        f"c-{ind.pk}-": "",
    }


def test_anonymous_is_sent_to_the_login_page_from_every_page(client, world):
    for name, url in all_pages(world["tree"]):
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_anonymous_cannot_post_data(client, world):
    response = client.post(reverse("data:entry"), entry_post(world["tree"]))
    assert response.status_code == 302
    assert not DataValue.objects.exists()


def test_a_user_of_another_unit_gets_403_on_every_unit_page(client, world):
    client.force_login(world["stranger"])
    for name, url in unit_pages(world["tree"]):
        assert client.get(url).status_code == 403, name


def test_a_user_of_another_unit_cannot_post_data(client, world):
    client.force_login(world["stranger"])
    response = client.post(reverse("data:entry"), entry_post(world["tree"]))
    assert response.status_code == 403
    assert not DataValue.objects.exists()


def test_a_user_of_another_unit_does_not_find_it_in_lists(client, world):
    client.force_login(world["stranger"])
    tree = world["tree"]
    search = client.get(reverse("units:list"), {"q": "Bắc Quang", "date": "2024-12-31"})
    assert search.status_code == 200
    assert "Huyện Bắc Quang" not in search.content.decode()
    old_tree = client.get(reverse("units:list"), {"date": "2024-12-31"}).content.decode()
    assert "Tỉnh Hà Giang" not in old_tree
    entry = client.get(reverse("data:entry"), {"programme": "P1", "period": "2024"})
    assert f'value="{tree.bac_quang.pk}"' not in entry.content.decode()


def test_the_leader_reads_every_page(client, world):
    client.force_login(world["leader"])
    for name, url in all_pages(world["tree"]):
        assert client.get(url).status_code == 200, name


def test_the_leader_cannot_write(client, world):
    client.force_login(world["leader"])
    page = client.get(
        reverse("data:entry"),
        {"programme": "P1", "unit": world["tree"].bac_quang.pk, "period": "2024"},
    )
    assert "Lưu số liệu" not in page.content.decode()
    response = client.post(reverse("data:entry"), entry_post(world["tree"]))
    assert response.status_code == 403
    assert not DataValue.objects.exists()


def test_the_officer_reads_every_page_of_the_unit(client, world):
    client.force_login(world["officer"])
    for name, url in all_pages(world["tree"]):
        assert client.get(url).status_code == 200, name


def test_the_officer_saves(client, world):
    client.force_login(world["officer"])
    response = client.post(reverse("data:entry"), entry_post(world["tree"], "1.234"))
    assert response.status_code == 200
    value = DataValue.objects.get()
    assert value.unit == world["tree"].bac_quang
    assert value.value == 1234


def test_the_officer_cannot_read_above_the_unit(client, world):
    client.force_login(world["officer"])
    tree = world["tree"]
    assert client.get(reverse("units:detail", args=[tree.ha_giang.pk])).status_code == 403
    assert client.get(reverse("units:detail", args=[tree.vi_xuyen.pk])).status_code == 403
    url = reverse("analytics:programme", args=["P1"]) + f"?unit={tree.ha_giang.pk}"
    assert client.get(url).status_code == 403


# ---------------------------------------------------------------------------------------
# Every route Django resolves, four personas. A new URL pattern without an entry in ROUTES
# fails test_every_route_has_an_access_rule: add one saying who may read and who may write.

ANONYMOUS, STRANGER, LEADER = "anonymous", "stranger", "leader"
DENIED = (403, 404)
# What the other unit's people must never see: names, figures and papers of Xã Một.
# (Not the ids or slugs of the URL: a 403 page may repeat the address that was asked for.)
SECRETS = ["Xã Một", "Huyện Vị Xuyên", "15/UBND-NN", "16/UBND-NN", "4.321", "Nguyễn Văn Một"]
WATCHED_APPS = {
    "units",
    "accounts",
    "programmes",
    "data",
    "ntm",
    "reporting",
    "documents",
    "core",
    "households",
    "cooperatives",
}


@dataclass
class Route:
    """How one route answers each persona.

    ``url(world)`` builds it from the world's real ids. ``allowed`` is the persona (a key of
    ``world.people``) who may use it; ``stranger`` is "denied" (403/404) or "no leak" (the page
    answers, but nothing of the other unit is in it). ``write(world)`` gives the form data of
    the write the route performs; without it the route only reads (a POST to it must not
    write either). ``stranger_post`` "own unit": the stranger may write, but only rows of
    their own unit (an upload is always for the uploader's unit).
    """

    url: Callable[[factories.AccessWorld], str]
    allowed: str = "officer"
    allowed_get: int = 200
    leader_get: int = 200
    stranger: str = "denied"
    public: bool = False
    write: Callable[[factories.AccessWorld], dict] | None = None
    leader_post: tuple[int, ...] = (403,)
    stranger_post: str = "denied"
    allowed_writes: bool = True  # False: the payload is refused on its merits (a bad file)


def _entry_data(w):
    return {
        "programme": "P1",
        "unit": w.tree.c1.pk,
        "period": "2024",
        f"v-{w.indicator.pk}-": "99",
        f"c-{w.indicator.pk}-": "",
    }


def _change_record_data(w):
    """Xã Một was called Xã Một Cũ until 31/12/2023 (a change of an earlier tree)."""
    from tiendo.organisation.change_views import unit_version

    w.tree.c1.refresh_from_db()
    return {
        "kind": "rename",
        "effective": "01/01/2024",
        "act_number": "1/NQ-HĐND",
        "act_signed_on": "01/12/2023",
        "act_issuer": "Hội đồng nhân dân tỉnh Hà Giang",
        "version": unit_version(w.tree.c1),
        "lk0-from_code": "00001",
        "lk0-from_name": "Xã Một Cũ",
        "lk0-to_name": "Xã Một",
    }


def _upload(name, content=b"PK\x03\x04 not really a file"):
    return SimpleUploadedFile(name, content)


def _request_data(w):
    return {
        "number_symbol": "99/UBND-NN",
        "issued_on": "2024-11-25",
        "issuer": w.tree.ha_giang.pk,
        "title": "Công văn mới",
        "period": "2024",
        "deadline": "2024-12-20",
        "forms": [w.form.pk],
        "sections": "Kết quả",
        "recipients": [w.tree.c1.pk],
        "recipients_exact": "1",
        "action": "save",  # the preview's confirmation of the list it showed
        "confirm": digest([w.tree.c1]),
    }


def _definition_data(w, **overrides):
    data = {
        "title": "Báo cáo định nghĩa mới",
        "slug": "",
        "unit": w.tree.vi_xuyen.pk,
        "kind": "sections",
        # the stranger's form shows back what was posted: no name of Xã Một in it
        "issuing_agency": "Ủy ban nhân dân xã",
        "symbol": "BC-UBND",
        "place": "Thôn Bản",
        "doc_title": "BÁO CÁO",
        "summary": "Kết quả năm 2024",
        "signer_capacity": "TM.",
        "signer_name": "Người Ký",
        "request": "",
        "programmes": [w.programme.pk],
        "period": "2024",
        "revision": "",
        "sections-TOTAL_FORMS": "1",
        "sections-INITIAL_FORMS": "0",
        "sections-0-key": "ket_qua",
        "sections-0-heading": "Kết quả",
        "annexes-TOTAL_FORMS": "0",
        "annexes-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


# --- assess ---
def _ntm_url(w, name, unit, year=2024):
    """A route of the entry pages over the access world's assessments (those of the pages:
    Xã Một's 2024 assessment meets every criterion; 2023 is not assessed yet)."""
    from tests.ntm.page_helpers import access_assessments
    from tiendo.ntm.models import CriteriaSet

    access_assessments(w.tree)
    cs = CriteriaSet.objects.get(code="T-2021-2025")
    return reverse(name, args=[cs.code, unit.pk, year])


# --- end assess ---
# --- pages ---
def _ntm(w, name, args=(), **params) -> str:
    """A URL of the NTM pages, after writing the assessments they show (pages)."""
    from urllib.parse import urlencode

    from tests.ntm.page_helpers import access_assessments

    access_assessments(w.tree)
    return reverse(name, args=args) + ("?" + urlencode(params) if params else "")


# --- end pages ---


# --- households ---
def _register(w) -> dict:
    """Xã Một's register (made once per world): a household whose head is one of the
    SECRETS, with an NQ 04 loan and an orange plot."""
    from tests.households import helpers

    if not hasattr(w, "register"):
        programme, component = helpers.loan_programme()
        household = helpers.household(w.tree.c1, head_name="Nguyễn Văn Một")
        loan = helpers.loan(household, programme, component)
        plot = helpers.plot(household, w.tree.c1, programme, component)
        household.refresh_from_db()
        w.register = {"household": household, "loan": loan, "plot": plot, "programme": programme}
    return w.register


def _hh(w, name, *more) -> str:
    return reverse(name, args=[_register(w)["household"].pk, *more])


def _hh_post(w, **changes) -> dict:
    from tiendo.households.models import Household

    h = Household.objects.get(pk=_register(w)["household"].pk)
    data = {
        "code": h.code,
        "head_name": h.head_name,
        "head_birth_year": h.head_birth_year,
        "head_sex": h.head_sex,
        "village": "Thôn Mới",
        "ethnicity": h.ethnicity,
        "version": h.version,
    }
    data.update(changes)
    return data


def _record_version(w, key) -> int:
    record = _register(w)[key]
    record.refresh_from_db()
    return record.version


def _drill(w) -> str:
    """The records behind Xã Một's count of registered households (a register indicator of
    its own, so the typed figures of the other routes stay typed)."""
    from tiendo.households.models import RegisterIndicator
    from tiendo.programmes.models import Indicator

    _register(w)
    indicator = Indicator.objects.filter(code="HH_SO").first() or factories.indicator(
        w.programme, "HH_SO", name="Số hộ trong sổ", value_type="integer"
    )
    RegisterIndicator.objects.get_or_create(
        indicator=indicator,
        defaults={
            "programme": w.programme,
            "source": "household",
            "measure": "count",
            "period": "to_period_end",
        },
    )
    return reverse("households:drill", args=["HH_SO", w.tree.c1.pk, "2021-2025"])


def _job(w, name) -> str:
    """A dry run of a household list Xã Một's officer started (tests/households/test_import.py
    runs real ones)."""
    from tiendo.core.models import Job
    from tiendo.households import importing

    job = Job.objects.filter(kind=importing.CHECK_JOB).first() or Job.objects.create(
        kind=importing.CHECK_JOB, started_by=w.people["officer"], unit=w.tree.c1
    )
    return reverse(name, args=[job.pk])


def _officer_token(w) -> int:
    from tiendo.api.models import Token
    from tiendo.api.tokens import issue

    found = Token.objects.filter(user=w.people["officer"]).first()
    return (found or issue(w.people["officer"], "Máy của xã").token).pk


# --- end households ---


ROUTES: dict[str, Route] = {
    "home": Route(lambda w: reverse("home"), stranger="no leak"),
    "login": Route(
        lambda w: reverse("login"),
        public=True,
        allowed_get=302,
        leader_get=302,
        stranger="no leak",
    ),
    # logging out and choosing a language touch only the visitor's own session
    "logout": Route(
        lambda w: reverse("logout"),
        allowed_writes=False,
        public=True,
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {},
        leader_post=(302,),
        stranger_post="no leak",
    ),
    "set_language": Route(
        lambda w: reverse("set_language"),
        allowed_writes=False,
        public=True,
        allowed_get=302,
        leader_get=302,
        stranger="no leak",
        write=lambda w: {"language": "en", "next": "/"},
        leader_post=(302,),
        stranger_post="no leak",
    ),
    "units:list": Route(lambda w: reverse("units:list"), stranger="no leak"),
    "units:detail": Route(lambda w: reverse("units:detail", args=[w.tree.c1.pk])),
    "units:children": Route(
        lambda w: reverse("units:children", args=[w.tree.vi_xuyen.pk]), allowed="district"
    ),
    "units:agency_create": Route(
        lambda w: reverse("units:agency_create", args=[w.tree.vi_xuyen.pk]),
        allowed="coordinator",
        leader_get=403,
        write=lambda w: {"code": "028.PNN", "name": "Phòng Nông nghiệp huyện Vị Xuyên"},
    ),
    "units:shares_edit": Route(
        lambda w: reverse("units:shares_edit", args=[w.tree.c4.pk]),
        allowed="new_coordinator",
        leader_get=403,
        write=lambda w: {
            f"share_{link.pk}": "50" for link in UnitChange.objects.filter(predecessor=w.tree.c4)
        },
    ),
    "units:history": Route(lambda w: reverse("units:history", args=[w.tree.c1.pk])),
    "units:change_record": Route(
        lambda w: reverse("units:change_record", args=[w.tree.c1.pk]),
        allowed="coordinator",
        leader_get=403,
        write=_change_record_data,
    ),
    "programmes:list": Route(lambda w: reverse("programmes:list"), stranger="no leak"),
    "analytics:programme": Route(
        lambda w: reverse("analytics:programme", args=["P1"]) + f"?unit={w.tree.c1.pk}"
    ),
    "analytics:drill": Route(
        lambda w: (
            reverse("analytics:drill", args=["P1"])
            + f"?unit={w.tree.c1.pk}&indicator=HH&period=2024"
        )
    ),
    "data:entry": Route(
        lambda w: reverse("data:entry") + f"?programme=P1&unit={w.tree.c1.pk}&period=2024",
        write=_entry_data,
    ),
    "data:validation": Route(
        lambda w: reverse("data:validation") + f"?programme=P1&unit={w.tree.c1.pk}&period=2024"
    ),
    "data:validation_resolve": Route(
        lambda w: reverse("data:validation_resolve"),
        allowed_writes=False,
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {
            "target": w.tree.c1.pk,
            "unit": w.tree.c1.pk,
            "programme": "P1",
            "period": "2024",
            "key": "rule:anything",
            "note": "giải trình",
        },
    ),
    "reporting:inbox": Route(lambda w: reverse("reporting:inbox"), stranger="no leak"),
    "reporting:requests": Route(
        lambda w: reverse("reporting:requests"), allowed="coordinator", stranger="no leak"
    ),
    "reporting:request_create": Route(
        lambda w: reverse("reporting:request_create"),
        allowed="coordinator",
        leader_get=403,
        stranger="no leak",
        write=_request_data,
        stranger_post="no leak",  # the form does not offer Hà Giang as issuer
    ),
    "reporting:request": Route(
        lambda w: reverse("reporting:request", args=[w.request.pk]), allowed="coordinator"
    ),
    "reporting:request_send": Route(
        lambda w: reverse("reporting:request_send", args=[w.draft_request.pk]),
        allowed="coordinator",
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {"confirm": "send"},
    ),
    "reporting:request_remind": Route(
        lambda w: reverse("reporting:request_remind", args=[w.request.pk]),
        allowed="coordinator",
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {},
    ),
    "reporting:request_export": Route(
        lambda w: reverse("reporting:request_export", args=[w.request.pk]),
        allowed="coordinator",
    ),
    "reporting:request_waive": Route(
        lambda w: reverse("reporting:request_waive", args=[w.request.pk, w.tree.c2.pk]),
        allowed="district",
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {"reason": "Xã sáp nhập"},
        # the service refuses with a message on the request page
        leader_post=(302,),
    ),
    "reporting:answer": Route(
        lambda w: reverse("reporting:answer", args=[w.request.pk, w.tree.c1.pk]),
        allowed_get=302,
        leader_get=302,
    ),
    "reporting:submission": Route(
        lambda w: reverse("reporting:submission", args=[w.submission.pk]),
        write=lambda w: {
            "action": "submit",
            "confirm": "submit",
            f"section-{w.request.sections.get().pk}": "Viết lại",
        },
    ),
    "reporting:excel_download": Route(
        lambda w: (
            reverse("reporting:excel_download", args=["P1_XA"])
            + f"?unit={w.tree.c1.pk}&period=2024"
        )
    ),
    "reporting:excel_upload": Route(
        lambda w: reverse("reporting:excel_upload", args=["P1_XA"]) + f"?unit={w.tree.c1.pk}",
        allowed_writes=False,
        leader_get=403,
        write=lambda w: {"unit": w.tree.c1.pk, "file": _upload("bieu.xlsx")},
    ),
    "documents:reports": Route(lambda w: reverse("documents:reports"), stranger="no leak"),
    "documents:documents": Route(lambda w: reverse("documents:documents"), stranger="no leak"),
    "documents:document": Route(lambda w: reverse("documents:document", args=[w.document.pk])),
    "documents:download": Route(lambda w: reverse("documents:download", args=[w.document.pk])),
    "documents:templates": Route(
        lambda w: reverse("documents:templates"),
        allowed="coordinator",  # issue 7 point 2: only coordinators and administrators upload
        stranger="no leak",
        write=lambda w: {
            "kind": w.template.kind,
            "name": "Mẫu mới",
            "file": _upload("mau.docx", bytes(w.template.content)),
        },
        stranger_post="own unit",  # an upload is for the uploader's unit, never Xã Một's
    ),
    "documents:template_download": Route(
        lambda w: reverse("documents:template_download", args=[w.template.pk])
    ),
    "documents:variables": Route(lambda w: reverse("documents:variables"), stranger="no leak"),
    "documents:from_submission": Route(
        lambda w: reverse("documents:from_submission", args=[w.submission.pk]),
        write=lambda w: {"format": "docx"},
    ),
    "documents:answer_texts": Route(
        lambda w: reverse("documents:answer_texts", args=[w.submission.pk]),
        write=lambda w: {"revision": str(w.definition.revision)},
    ),
    "accounts:list": Route(
        lambda w: reverse("accounts:list"),
        allowed="coordinator",
        leader_get=403,
        stranger="no leak",
    ),
    "accounts:create": Route(
        lambda w: reverse("accounts:create"),
        allowed="coordinator",
        leader_get=403,
        stranger="no leak",
        write=lambda w: {"username": "xa.mot.moi", "unit_code": "00001", "role": "commune_officer"},
        stranger_post="own unit",  # refused on its merits: Xã Một is outside Quảng Trị
    ),
    "accounts:import": Route(
        lambda w: reverse("accounts:import"),
        allowed="coordinator",
        leader_get=403,
        stranger="no leak",
        write=lambda w: {
            "file": _upload(
                "ds.csv", b"username,unit code,role\nxa.mot.moi,00001,commune_officer\n"
            )
        },
        stranger_post="own unit",
        allowed_writes=False,  # the upload is the dry run: it writes nothing until confirmed
    ),
    "accounts:edit": Route(
        lambda w: reverse("accounts:edit", args=[w.people["officer"].pk]),
        allowed="coordinator",
        leader_get=403,
        write=lambda w: {
            "full_name": "Nguyễn Văn Một",
            "unit_code": "00001",
            "role": "commune_officer",
            "version": w.people["officer"].version,
        },
    ),
    "accounts:active": Route(
        lambda w: reverse("accounts:active", args=[w.people["officer"].pk]),
        allowed="coordinator",
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {"active": "0"},
    ),
    "accounts:reset_password": Route(
        lambda w: reverse("accounts:reset_password", args=[w.people["officer"].pk]),
        allowed="coordinator",
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {},
    ),
    # everyone changes their own password (tests/accounts/test_views.py); an empty POST
    # changes nothing
    "accounts:password_change": Route(
        lambda w: reverse("accounts:password_change"), stranger="no leak"
    ),
    "accounts:reset_confirm": Route(
        lambda w: reverse("accounts:reset_confirm", args=["MQ", "set-password"]),
        public=True,
        stranger="no leak",
    ),
    "accounts:reset_done": Route(
        lambda w: reverse("accounts:reset_done"), public=True, stranger="no leak"
    ),
    "documents:report": Route(lambda w: reverse("documents:report", args=["xa-mot-2024"])),
    "documents:definition_new": Route(
        lambda w: reverse("documents:definition_new"),
        allowed="coordinator",
        leader_get=403,
        stranger="no leak",
        write=_definition_data,
        stranger_post="own unit",  # the stranger's form offers only their own units
    ),
    "documents:definition_edit": Route(
        lambda w: reverse("documents:definition_edit", args=["xa-mot-2024"]),
        allowed="coordinator",
        leader_get=403,
        write=lambda w: _definition_data(
            w, slug="xa-mot-2024", revision=str(w.definition.revision), request=w.request.pk
        ),
    ),
    "documents:render": Route(
        lambda w: reverse("documents:render", args=["xa-mot-2024"]),
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {"format": "docx"},
    ),
    # --- pages ---
    # the NTM pages read only; Xã Một's assessment is written before the walk
    "ntm:matrix": Route(
        lambda w: _ntm(w, "ntm:matrix", unit=w.tree.vi_xuyen.pk, year=2024), allowed="district"
    ),
    "ntm:matrix_export": Route(
        lambda w: _ntm(w, "ntm:matrix_export", unit=w.tree.vi_xuyen.pk, year=2024),
        allowed="district",
    ),
    "ntm:progress": Route(
        lambda w: _ntm(w, "ntm:progress", unit=w.tree.vi_xuyen.pk), allowed="district"
    ),
    "ntm:scorecard": Route(lambda w: _ntm(w, "ntm:scorecard", args=[w.tree.c1.pk])),
    # --- end pages ---
    # --- assess ---
    "ntm:entry": Route(
        lambda w: _ntm_url(w, "ntm:entry", w.tree.c1, 2023),
        write=lambda w: {"version": "0", "applies_to": "MN", "c3": "1", "level": ""},
    ),
    "ntm:recognition": Route(
        lambda w: _ntm_url(w, "ntm:recognition", w.tree.c1),
        allowed="coordinator",
        write=lambda w: {
            "decision_number": "7/QĐ-UBND",
            "decision_date": "20/12/2024",
            "issuer": "UBND tỉnh Hà Giang",
        },
    ),
    "ntm:sheet_download": Route(
        lambda w: _ntm_url(w, "ntm:sheet_download", w.tree.vi_xuyen), allowed="district"
    ),
    "ntm:sheet_upload": Route(
        lambda w: _ntm_url(w, "ntm:sheet_upload", w.tree.vi_xuyen),
        allowed="coordinator",
        write=lambda w: {"action": "save", "file": _upload("tieu-chi.xlsx")},
        allowed_writes=False,  # not a sheet: refused on its merits (tests/ntm/test_excel.py)
    ),
    # --- end assess ---
    # --- agency ---
    # the agency of Hà Giang (its coordinator and leader read it) sponsoring Xã Một
    # (access_sponsorship: tests/ntm/agency_helpers.py)
    "ntm:agency_tasks": Route(
        lambda w: reverse("ntm:agency_tasks", args=[access_sponsorship(w).agency_id]),
        allowed="coordinator",
    ),
    "ntm:commune_sponsors": Route(
        lambda w: reverse("ntm:commune_sponsors", args=[access_sponsorship(w).commune_id])
    ),
    # ending one: the coordinator of the province (tests/ntm/test_agency_pages.py)
    "ntm:assignment_end": Route(
        lambda w: reverse(
            "ntm:assignment_end", args=[access_sponsorship(w).agency.ntm_assignments.get().pk]
        ),
        allowed="coordinator",
        allowed_get=405,
        leader_get=405,
        stranger="no leak",  # a GET is refused before anything is read
        write=lambda w: {"ngay": "31/12/2024"},
    ),
    "ntm:sponsorship_end": Route(
        lambda w: reverse("ntm:sponsorship_end", args=[access_sponsorship(w).pk]),
        allowed="coordinator",
        allowed_get=405,
        leader_get=405,
        stranger="no leak",  # a GET is refused before anything is read
        write=lambda w: {"ngay": "31/12/2024"},
    ),
    # --- end agency ---
    # --- cooperatives ---
    "cooperatives:list": Route(lambda w: reverse("cooperatives:list"), stranger="no leak"),
    "cooperatives:export": Route(lambda w: reverse("cooperatives:export"), stranger="no leak"),
    "cooperatives:detail": Route(
        lambda w: reverse("cooperatives:detail", args=[ch.access_cooperative(w).pk])
    ),
    "cooperatives:create": Route(
        lambda w: reverse("cooperatives:create"),
        leader_get=403,
        stranger="no leak",
        write=lambda w: ch.cooperative_post(w),
        stranger_post="own unit",
    ),
    "cooperatives:edit": Route(
        lambda w: reverse("cooperatives:edit", args=[ch.access_cooperative(w).pk]),
        leader_get=403,
        write=lambda w: ch.cooperative_post(w, name="HTX đổi tên"),
    ),
    "cooperatives:support_add": Route(
        lambda w: reverse("cooperatives:support_add", args=[ch.access_cooperative(w).pk]),
        allowed_get=405,
        leader_get=403,
        write=ch.support_post,
    ),
    "cooperatives:support_remove": Route(
        lambda w: reverse(
            "cooperatives:support_remove",
            args=[ch.access_cooperative(w).pk, ch.access_support(w).pk],
        ),
        allowed_get=405,
        leader_get=403,
        write=lambda w: {},
    ),
    "cooperatives:products": Route(lambda w: reverse("cooperatives:products"), stranger="no leak"),
    "cooperatives:product_export": Route(
        lambda w: reverse("cooperatives:product_export"), stranger="no leak"
    ),
    "cooperatives:product": Route(
        lambda w: reverse("cooperatives:product", args=[ch.access_product(w).pk])
    ),
    "cooperatives:product_create": Route(
        lambda w: reverse("cooperatives:product_create"),
        leader_get=403,
        stranger="no leak",
        write=lambda w: ch.product_post(w),
        stranger_post="own unit",
    ),
    "cooperatives:product_edit": Route(
        lambda w: reverse("cooperatives:product_edit", args=[ch.access_product(w).pk]),
        leader_get=403,
        write=lambda w: ch.product_post(w, name="Sản phẩm đổi tên"),
    ),
    # --- end cooperatives ---
    # --- api ---
    # the token page: each user's own tokens (tests/api checks one never sees or revokes
    # another's); its writes make rows of the user's own, which this walk cannot tell apart
    "api:tokens": Route(
        lambda w: reverse("api:tokens"),
        stranger="no leak",
        write=lambda w: {"name": "Kết nối thử", "lifetime": "30", "read_only": "on"},
        leader_post=(200, 302),
        stranger_post="own unit",
        allowed_writes=False,
    ),
    "api:token_revoke": Route(
        lambda w: reverse("api:token_revoke", args=[_officer_token(w)]),
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {},
        leader_post=(302, 404),
        stranger_post="own unit",
        allowed_writes=False,
    ),
    # the REST API answers a request without a session or token with a 401 in JSON, not a
    # redirect to the login page (tests/api/test_endpoints.py asserts it); its lists hold
    # only the caller's units, one unit or pivot of another province is a 403
    "api_v1:units": Route(lambda w: reverse("api_v1:units"), public=True, stranger="no leak"),
    "api_v1:unit": Route(lambda w: reverse("api_v1:unit", args=["00001"]), public=True),
    "api_v1:programmes": Route(
        lambda w: reverse("api_v1:programmes"), public=True, stranger="no leak"
    ),
    "api_v1:programme_indicators": Route(
        lambda w: reverse("api_v1:programme_indicators", args=["P1"]),
        public=True,
        stranger="no leak",
    ),
    "api_v1:data_values": Route(
        lambda w: reverse("api_v1:data_values"), public=True, stranger="no leak"
    ),
    "api_v1:pivot": Route(
        lambda w: reverse("api_v1:pivot") + "?unit=00001&period=2024", public=True
    ),
    "api_v1:openapi-json": Route(
        lambda w: reverse("api_v1:openapi-json"), public=True, stranger="no leak"
    ),
    "api_v1:openapi-view": Route(
        lambda w: reverse("api_v1:openapi-view"), public=True, stranger="no leak"
    ),
    "api_v1:api-root": Route(
        lambda w: reverse("api_v1:api-root"),
        public=True,
        allowed_get=404,
        leader_get=404,
        stranger="no leak",
    ),
    # --- end api ---
    # --- explorer ---
    # read only; another province's coordinator gets a message naming no unit of Hà Giang
    "analytics:explorer": Route(
        lambda w: (
            reverse("analytics:explorer")
            + f"?chi_tieu=HH&don_vi={w.tree.c1.pk}&ky_tu=2024&ky_den=2024"
        ),
        stranger="no leak",
    ),
    # --- end explorer ---
    # --- notifications ---
    "core:notifications": Route(lambda w: reverse("core:notifications"), stranger="no leak"),
    "core:notification_open": Route(
        lambda w: reverse(
            "core:notification_open",
            args=[Notification.objects.filter(recipient=w.people["officer"]).first().pk],
        ),
        allowed_get=405,
        leader_get=405,
        stranger="no leak",  # a GET is refused before anything is read
        write=lambda w: {},
        leader_post=(404,),  # someone else's notification
    ),
    "core:notifications_read_all": Route(
        lambda w: reverse("core:notifications_read_all"),
        allowed_get=405,
        leader_get=405,
        stranger="no leak",
        write=lambda w: {},
        leader_post=(302,),  # marks the leader's own: none of the officer's
        stranger_post="own unit",
    ),
    # --- end notifications ---
    # --- households ---
    # personal data: names only for the commune and the units above, to the roles that work
    # on records; a leader reads none of it (403)
    "households:index": Route(
        lambda w: reverse("households:index"), allowed_get=302, leader_get=403, stranger="no leak"
    ),
    "households:list": Route(
        lambda w: reverse("households:list", args=[_register(w) and w.tree.c1.pk]),
        leader_get=403,
    ),
    "households:export_list": Route(
        lambda w: reverse("households:export_list", args=[_register(w) and w.tree.c1.pk]),
        leader_get=403,
    ),
    "households:create": Route(
        lambda w: reverse("households:create", args=[w.tree.c1.pk]),
        leader_get=403,
        write=lambda w: {
            "code": "H9",
            "head_name": "Lò Văn Chín",
            "head_birth_year": 1980,
            "head_sex": "M",
        },
    ),
    "households:eligibility": Route(
        lambda w: reverse("households:eligibility", args=[_register(w) and w.tree.c1.pk]),
        leader_get=403,
    ),
    "households:export_audit": Route(
        lambda w: reverse("households:export_audit", args=[w.tree.c1.pk]),
        allowed="coordinator",
        leader_get=403,
    ),
    "households:detail": Route(lambda w: _hh(w, "households:detail"), leader_get=403),
    "households:edit": Route(
        lambda w: _hh(w, "households:edit"), leader_get=403, write=lambda w: _hh_post(w)
    ),
    "households:remove": Route(
        lambda w: _hh(w, "households:remove"),
        leader_get=403,
        write=lambda w: {"reason": "Nhập trùng", "version": _hh_post(w)["version"]},
    ),
    "households:export_household": Route(
        lambda w: _hh(w, "households:export_household"), leader_get=403
    ),
    "households:poverty": Route(
        lambda w: _hh(w, "households:poverty"),
        leader_get=403,
        write=lambda w: {"year": "2022", "level": "poor", "version": _hh_post(w)["version"]},
    ),
    "households:repayment": Route(
        lambda w: _hh(w, "households:repayment", _register(w)["loan"].pk),
        leader_get=403,
        write=lambda w: {
            "paid_on": "01/03/2023",
            "principal": "10",
            "version": _record_version(w, "loan"),
        },
    ),
    "households:record_add": Route(
        lambda w: _hh(w, "households:record_add", "vay"),
        leader_get=403,
        write=lambda w: {
            "programme": _register(w)["programme"].pk,
            "amount": "20",
            "disbursed_on": "15/03/2023",
            "term_months": 24,
        },
    ),
    "households:record_edit": Route(
        lambda w: _hh(w, "households:record_edit", "dat", _register(w)["plot"].pk),
        leader_get=403,
        write=lambda w: {
            "land_unit": w.tree.c1.code,
            "area_ha": "2,5",
            "crop": "Cam sành",
            "version": _record_version(w, "plot"),
        },
    ),
    "households:record_remove": Route(
        lambda w: _hh(w, "households:record_remove", "dat", _register(w)["plot"].pk),
        allowed_get=405,
        leader_get=405,
        stranger="no leak",  # a GET is refused before anything is read
        write=lambda w: {"version": _record_version(w, "plot")},
    ),
    "households:drill": Route(_drill, leader_get=403),
    # the Excel import: its pages for whoever may edit the commune's register, a job's pages
    # for the one who started it and the coordination office above (anyone else: 404)
    "households:import": Route(
        lambda w: reverse("households:import", args=[w.tree.c1.pk]),
        leader_get=403,
        write=lambda w: {"file": _upload("ho-gia-dinh.xlsx")},
        allowed_writes=False,  # not a workbook: refused on its merits (test_import.py)
    ),
    "households:import_template": Route(
        lambda w: reverse("households:import_template", args=[w.tree.c1.pk]), leader_get=403
    ),
    "households:import_job": Route(lambda w: _job(w, "households:import_job"), leader_get=404),
    "households:import_result": Route(
        lambda w: _job(w, "households:import_result"),
        allowed_get=302,  # the dry run is not finished: back to its progress page
        leader_get=404,
    ),
    "households:import_confirm": Route(
        lambda w: _job(w, "households:import_confirm"),
        allowed_get=405,
        leader_get=405,
        stranger="no leak",  # a GET is refused before anything is read
        write=lambda w: {},
        leader_post=(404,),
        allowed_writes=False,  # a dry run not finished: nothing to import (test_import.py)
    ),
    # --- end households ---
}


def route_names(patterns=None, namespace: str = "") -> list[str]:
    """The name of every URL pattern Django resolves, with its namespace."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "admin":
            # Django's admin site lets in system administrators only, whatever the page:
            # tests/accounts/test_admin.py walks it with every persona
            continue
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names += route_names(pattern.url_patterns, inner)
        else:
            names.append(f"{namespace}{pattern.name}" if pattern.name else str(pattern.pattern))
    return names


def snapshot() -> dict:
    """Every row the application keeps, by model and primary key (the audit log aside:
    reading a file writes to it; and a user's last login)."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label not in WATCHED_APPS or model is AuditEntry:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.name != "last_login"]
        state[model._meta.label] = {
            row["id"]: {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()}
            for row in model.objects.values(*fields)
        }
    return state


def changed_rows(before: dict, after: dict) -> list[dict]:
    """Rows added, changed or removed between two snapshots."""
    rows = []
    for label, old in before.items():
        new = after[label]
        for pk in old.keys() | new.keys():
            if old.get(pk) != new.get(pk):
                rows.append(new.get(pk) or old[pk])
    return rows


def _client(world, persona) -> Client:
    client = Client()
    if persona != ANONYMOUS:
        client.force_login(world.people[persona])
    return client


def _leaks(response) -> list[str]:
    if response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode()
        return [s for s in SECRETS if s in body]
    return []


@pytest.fixture
def access_world(tree):
    return factories.access_world(tree)


def test_every_route_has_an_access_rule():
    names = route_names()
    missing = sorted(set(names) - set(ROUTES))
    assert not missing, (
        f"no access rule for {missing}: add an entry to ROUTES in tests/test_access.py "
        "saying who may read the route and who may write through it"
    )
    assert not sorted(set(ROUTES) - set(names)), "ROUTES names a route that no longer exists"


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_route_answers_each_persona_and_only_the_allowed_one_writes(access_world, method):
    world = access_world
    login = reverse("login")
    failures = []
    for name, route in ROUTES.items():
        url = route.url(world)
        for persona in (ANONYMOUS, STRANGER, LEADER):
            before = snapshot()
            client = _client(world, persona)
            if method == "get":
                response = client.get(url)
            else:
                response = client.post(url, route.write(world) if route.write else {})
            status = response.status_code
            where = f"{method.upper()} {name} as {persona}: {status}"
            writes = method == "post" and route.write is not None
            changed = changed_rows(before, snapshot())
            if persona == STRANGER and writes and route.stranger_post == "own unit":
                own = world.people[STRANGER].unit_id
                changed = [row for row in changed if row.get("unit_id") != own]
            if changed:
                failures.append(f"{where} changed data: {changed}")
            if status >= 500:
                failures.append(f"{where} is a server error")
            if persona == ANONYMOUS:
                if not route.public and not (
                    status == 302 and response["Location"].startswith(login)
                ):
                    failures.append(f"{where}, not sent to the login page")
            elif persona == STRANGER:
                rule = route.stranger_post if writes else route.stranger
                if method == "post" and not writes:
                    rule = "no leak"  # a POST to a page that only reads: the data checks hold
                if rule == "denied" and status not in DENIED:
                    failures.append(f"{where}, not refused")
                if _leaks(response):
                    failures.append(f"{where} shows {_leaks(response)}")
            elif persona == LEADER:
                expected = route.leader_post if writes else (route.leader_get,)
                if method == "post" and not writes:
                    expected = (route.leader_get, 405)
                if status not in expected:
                    failures.append(f"{where}, expected {expected}")
        if method == "get":
            response = _client(world, route.allowed).get(url)
            if response.status_code != route.allowed_get:
                failures.append(
                    f"GET {name} as {route.allowed}: {response.status_code}, "
                    f"expected {route.allowed_get}"
                )
    assert not failures, "\n".join(failures)


WRITE_ROUTES = [n for n, r in ROUTES.items() if r.write is not None and r.allowed_writes]


@pytest.mark.parametrize("name", WRITE_ROUTES)
def test_the_allowed_persona_writes_through_the_route(access_world, name):
    """The other side of the walk: the same POST that changes nothing for the others does
    write for the persona allowed to (so a route refusing everyone would be caught)."""
    route, world = ROUTES[name], access_world
    before = snapshot()
    response = _client(world, route.allowed).post(route.url(world), route.write(world))
    assert response.status_code < 400, response.status_code
    assert changed_rows(before, snapshot()), f"POST {name} as {route.allowed} wrote nothing"
