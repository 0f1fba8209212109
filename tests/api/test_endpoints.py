"""The read endpoints: who sees what (as on the pages), the same figures as `tiendo pivot`,
the cursor pagination, hostile parameters, the OpenAPI description."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from tests import factories
from tests.api.conftest import bearer
from tiendo.data.models import DataValue
from tiendo.data.services import Entry, save_value

V1 = "/api/v1"


def get(secret, path, **params):
    response = bearer(secret).get(V1 + path, params)
    assert response.status_code < 500, (path, params, response.content)
    return response


def codes(response) -> set[str]:
    return {u["code"] for u in response.json()["items"]}


def values(response) -> set[tuple]:
    return {(v["unit"], v["period"], v["value"]) for v in response.json()["items"]}


def test_anonymous_gets_a_401_on_every_endpoint(world):
    for path in (
        "/units/",
        "/units/00001",
        "/programmes/",
        "/programmes/P1/indicators",
        "/data-values/",
        "/pivot?unit=02&period=2024",
    ):
        response = Client().get(V1 + path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "auth.required"


def test_a_user_of_another_province_sees_nothing_of_ha_giang(world, secrets):
    stranger = secrets["stranger"]
    assert codes(get(stranger, "/units/", limit=1000)) == {"44", "20001"}
    assert values(get(stranger, "/data-values/")) == {("20001", "2025Q4", "55")}
    assert get(stranger, "/data-values/", unit="02", subtree="true").status_code == 403
    assert get(stranger, "/units/00001").status_code == 403
    for path in ("/units/02", "/pivot?unit=02&period=2024", "/pivot?unit=00001&period=2024"):
        response = get(stranger, path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "access.denied"
        assert "4321" not in response.content.decode()


def test_the_officer_of_the_commune_reads_it_and_nothing_beside(world, secrets):
    officer = secrets["officer"]
    assert codes(get(officer, "/units/")) == {"00001"}
    assert values(get(officer, "/data-values/")) == {("00001", "2024", "4321")}
    assert get(officer, "/units/00002").status_code == 403
    assert get(officer, "/units/99999").status_code == 404
    assert get(officer, "/units/99999").json()["code"] == "not_found"


def test_the_leader_reads_the_aggregates_of_the_province(world, secrets):
    leader = secrets["leader"]
    assert codes(get(leader, "/units/")) == {
        "02",
        "028",
        "032",
        "00001",
        "00002",
        "00003",
        "00004",
        "02.SNN",
    }
    assert values(get(leader, "/data-values/")) == {
        ("00001", "2024", "4321"),
        ("00003", "2024", "100"),
    }
    table = get(leader, "/pivot", unit="02", period="2024").json()
    assert [(r["code"], r["value"]) for r in table["rows"]] == [("HH", 4421)]


def test_the_new_province_reads_the_old_one_it_took_over(world, secrets):
    """Tuyên Quang's coordinator reads Hà Giang's figures of before 2025, as on the pages."""
    seen = values(get(secrets["new_coordinator"], "/data-values/"))
    assert seen == {("00001", "2024", "4321"), ("00003", "2024", "100"), ("10001", "2025Q4", "7")}


def test_unit_filters_and_its_changes(world, secrets):
    coordinator = secrets["new_coordinator"]
    assert codes(get(coordinator, "/units/", parent="028")) == {"00001", "00002"}
    assert codes(get(coordinator, "/units/", level=1)) == {"02", "08"}
    assert codes(get(coordinator, "/units/", on="2025-07-01", level=3)) == {
        "10001",
        "10002",
        "10003",
    }
    assert codes(get(coordinator, "/units/", q="Mới Hai")) == {"10002"}
    detail = get(coordinator, "/units/00004").json()
    assert [(s["unit"]["code"], s["partial"], s["readable"]) for s in detail["successors"]] == [
        ("10002", True, True),
        ("10003", True, True),
    ]
    n2 = get(coordinator, "/units/10002").json()
    assert {p["unit"]["code"] for p in n2["predecessors"]} == {"00002", "00003", "00004"}
    # Hà Giang's coordinator reads the old commune; its successor is outside the scope
    old = get(secrets["coordinator"], "/units/00001").json()
    assert [(s["unit"]["code"], s["readable"]) for s in old["successors"]] == [("10001", False)]


def test_programmes_and_their_indicators(world, secrets):
    assert [p["code"] for p in get(secrets["officer"], "/programmes/").json()] == ["P1"]
    indicators = get(secrets["officer"], "/programmes/P1/indicators").json()
    assert [(i["code"], i["name"]) for i in indicators] == [("HH", "Số hộ tham gia")]
    assert get(secrets["officer"], "/programmes/NOPE/indicators").status_code == 404


def test_data_value_filters(world, secrets):
    leader = secrets["leader"]
    assert values(get(leader, "/data-values/", unit="032", subtree="true")) == {
        ("00003", "2024", "100")
    }
    assert values(get(leader, "/data-values/", unit="032")) == set()
    assert values(
        get(
            leader, "/data-values/", indicator=["HH", "OTHER"], period_from="2024", period_to="2024"
        )
    ) == {("00001", "2024", "4321"), ("00003", "2024", "100")}
    assert values(get(leader, "/data-values/", period_from="2025")) == set()
    assert values(get(leader, "/data-values/", updated_since="2999-01-01T00:00:00Z")) == set()


def pivot_command(*args) -> dict:
    out = io.StringIO()
    call_command("pivot", *args, "--format", "json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


@pytest.mark.parametrize(
    ("params", "args"),
    [
        ({"unit": "02", "period": "2024"}, ["--unit", "02", "--period", "2024"]),
        ({"unit": "028", "period": "2021-2025"}, ["--unit", "028", "--period", "2021-2025"]),
        (
            {"unit": "08", "period": "2024", "on": "2025-07-01", "programme": "P1"},
            ["--unit", "08", "--period", "2024", "--on", "01/07/2025", "--programme", "P1"],
        ),
    ],
)
def test_the_pivot_is_what_the_command_prints(world, secrets, params, args):
    answer = get(secrets["new_coordinator"], "/pivot", **params)
    assert answer.status_code == 200
    assert answer.json() == pivot_command(*args)
    assert answer.json()["rows"]


def test_cursor_pagination_walks_every_row_once(world, secrets):
    prog = world.programme
    extra = factories.indicator(prog, "X", name="Thêm")
    for year in range(2000, 2023):
        save_value(Entry(extra, world.tree.c2, str(year), factories.D(year)))
    leader = secrets["leader"]
    expected = set(
        DataValue.objects.filter(unit__path__startswith=world.tree.ha_giang.path).values_list(
            "pk", flat=True
        )
    )
    for path in ("/data-values/", "/units/"):
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
            page = get(leader, path, **params).json()
            seen += [json.dumps(item, sort_keys=True) for item in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)), path
        assert pages == -(-len(seen) // 4)  # a next cursor only when a row follows
        if path == "/data-values/":
            assert len(seen) == len(expected) == 25
        else:
            assert len(seen) == len(get(leader, path, limit=1000).json()["items"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/units/", {"limit": "1001"}),
        ("/data-values/", {"indicator": [f"I{n}" for n in range(101)]}),
        ("/units/", {"limit": "99999999999999999999999"}),
        ("/units/", {"limit": "0"}),
        ("/units/", {"limit": "mười"}),
        ("/units/", {"on": "31/12/2024"}),
        ("/units/", {"on": "2024-02-30"}),
        ("/units/", {"level": "7"}),
        ("/units/", {"parent": "Hà Giang"}),
        ("/units/", {"cursor": "not-base64!!"}),
        ("/units/", {"cursor": "W10"}),  # [] : the wrong shape
        ("/units/", {"cursor": "WyJ4Il0"}),  # ["x"]
        ("/units/", {"cursor": "đ" * 10}),
        ("/units/", {"q": "x" * 101}),
        ("/units/Xã", {}),
        ("/units/" + "9" * 61, {}),
        ("/data-values/", {"unit": "mã"}),
        ("/data-values/", {"indicator": "HH;DROP"}),
        ("/data-values/", {"period_from": "20245"}),
        ("/data-values/", {"period_from": "năm"}),
        ("/data-values/", {"updated_since": "yesterday"}),
        ("/data-values/", {"subtree": "maybe"}),
        ("/data-values/", {"cursor": "WyJ4IiwxXQ"}),  # ["x",1]: not a timestamp
        ("/programmes/Ủ/indicators", {}),
        ("/pivot", {}),
        ("/pivot", {"unit": "02"}),
        ("/pivot", {"unit": "02", "period": "2024X9"}),
        ("/pivot", {"unit": "02", "period": "2024", "on": "hôm nay"}),
    ],
)
def test_hostile_parameters_are_a_400_with_the_error_body(world, secrets, path, params):
    response = get(secrets["leader"], path, **params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] and body["message"]


def test_the_openapi_description_has_every_endpoint(world, secrets):
    schema = Client().get(V1 + "/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        f"{V1}/units/",
        f"{V1}/units/{{code}}",
        f"{V1}/programmes/",
        f"{V1}/programmes/{{code}}/indicators",
        f"{V1}/data-values/",
        f"{V1}/pivot",
    }
    assert "BearerToken" in schema["components"]["securitySchemes"]


def test_the_docs_page_loads_nothing_from_another_host(world, secrets):
    officer = world.people["officer"]
    client = Client()
    client.force_login(officer)
    page = client.get(V1 + "/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
