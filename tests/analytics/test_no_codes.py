"""The home page and a programme's page name things; codes and formulas stay out of sight."""

import re

from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role


def visible_text(html: str) -> str:
    html = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    html = re.sub(r"<(script|style|select)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_programmes_are_named_and_formulas_kept_in_a_details_area(client, tree):
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    factories.indicator(prog, "KH", name="Kế hoạch vốn")
    factories.indicator(prog, "GN", name="Vốn giải ngân")
    factories.indicator(prog, "TLGN", name="Tỷ lệ giải ngân", formula="GN / KH * 100")
    client.force_login(factories.user("lanhdao", tree.ha_giang, Role.LEADER))
    home = client.get(reverse("home")).content.decode()
    assert "Cải tạo vườn tạp" in home and "NQ05" not in visible_text(home)
    html = client.get(reverse("analytics:programme", args=["NQ05"])).content.decode()
    text = visible_text(html)
    assert "Tỷ lệ giải ngân" in text
    for code in ("NQ05", "TLGN", "GN / KH"):
        assert code not in text, code
    details = html.split('<details class="tech">')[1].split("</details>")[0]
    assert "GN / KH * 100" in details and "tính toán" in details
