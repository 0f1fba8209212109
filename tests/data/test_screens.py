"""No internal codes on the data screens: formulas in a closed details area, periods in
words, times the Vietnamese way."""

import re

from tests import factories
from tests.data.test_validation_views import page
from tests.data.test_validation_views import world as world  # noqa: F401  (fixture)
from tests.data.test_views import form_url, posted
from tests.data.test_views import prog as prog  # noqa: F401  (fixture)
from tiendo.accounts.models import Role


def visible_text(html: str) -> str:
    """The page without its tags, attributes and closed ``<details>`` areas."""
    html = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    html = re.sub(r"<(script|style|select)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_a_rule_shows_its_name_and_keeps_the_formula_in_a_closed_details_area(client, world):
    client.force_login(world["officer"])
    html = client.get(page(world["tree"].bac_quang)).content.decode()
    assert "Giải ngân không vượt kế hoạch" in html
    details = html.split('<details class="tech">')[1].split("</details>")[0]
    assert "Công thức kiểm tra" in details and "PAID &lt;= PLAN" in details
    text = visible_text(html)
    assert "PAID" not in text and "PAID_WITHIN_PLAN" not in text


def test_the_validation_page_picks_its_period_in_words(client, world):
    client.force_login(world["officer"])
    html = client.get(page(world["tree"].bac_quang, "2024S2")).content.decode()
    assert '<option value="2024S2" selected>6 tháng cuối năm 2024</option>' in html
    assert 'placeholder="2022, 2022S1' not in html


def test_the_entry_page_shows_no_codes_and_vietnamese_times(client, prog, tree):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    client.post(form_url(tree), posted(prog, tree, KH="5", GN_TW="3"))
    html = client.get(form_url(tree)).content.decode()
    text = visible_text(html)
    for code in ("NQ05", "GN", "KH", "TW", "2024S", "+07:00"):
        assert not re.search(rf"\b{re.escape(code)}\b", text), code
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # no ISO date
    assert re.search(r"\d{2}:\d{2} \d{2}/\d{2}/\d{4}", text)  # 14:05 02/12/2026
    assert "Nhập mới" in text and "Trung ương" in text
