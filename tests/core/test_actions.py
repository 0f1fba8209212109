"""Audit entries are worded when shown, in the reader's language, from the catalogue of
actions (tiendo.core.actions); notifications are worded in the site's language."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from tests import factories
from tiendo.core import actions
from tiendo.core.audit import audit, notify
from tiendo.core.models import AuditEntry, Notification

SRC = Path(actions.__file__).resolve().parents[1]


def _constants(node) -> set[str]:
    """The strings an expression can be: ``"a.b"``, or both branches of ``x if c else y``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _constants(node.body) | _constants(node.orelse)
    return set()


def _written_codes() -> set[str]:
    """Every action code ``src/`` hands to ``audit()``, directly or as an ``action=``."""
    codes: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "audit" and node.args:
                codes |= _constants(node.args[0])
            for keyword in node.keywords:
                if keyword.arg == "action":
                    codes |= {c for c in _constants(keyword.value) if "." in c}
    return codes


def test_every_action_written_has_a_label_and_every_label_an_action():
    written = _written_codes()
    assert len(written) >= 20  # the scan finds the calls
    assert written - set(actions.ACTIONS) == set()
    assert set(actions.ACTIONS) - written == set()


@pytest.mark.parametrize("code", sorted(actions.ACTIONS))
def test_no_label_is_its_code(code):
    label = actions.action_label(code)
    assert label and label != code and "." not in label.rstrip(".")


def test_an_entry_is_worded_from_its_parameters_not_its_stored_text(db):
    entry = AuditEntry(
        action="entry_window.reopened",
        message="văn bản cũ",
        data={"form": "Biểu 1", "period": "2024", "until": "2025-01-31", "reason": "Mưa lũ"},
    )
    assert actions.describe(entry) == "Mở lại biểu Biểu 1 kỳ 2024 đến 31/01/2025: Mưa lũ"
    counted = AuditEntry(action="request.reminded", data={"count": 1200})
    assert actions.describe(counted) == "Nhắc 1.200 đơn vị chưa gửi báo cáo"


def test_an_old_entry_without_its_parameters_keeps_its_stored_text(db):
    old = AuditEntry(action="submission.waived", message="Miễn báo cáo: mưa lũ", data={})
    assert actions.describe(old) == "Miễn báo cáo: mưa lũ"
    unknown = AuditEntry(action="something.retired", message="văn bản cũ", data={})
    assert actions.describe(unknown) == "văn bản cũ"
    assert actions.action_label("something.retired") == str(actions.UNKNOWN)


def test_the_label_follows_the_reader_s_language():
    with translation.override("vi"):
        assert actions.action_label("submission.approved") == "Duyệt"
    with translation.override("en"):
        assert actions.action_label("submission.approved") == "Approve"


def test_the_stored_text_is_in_the_site_s_language_whoever_wrote_it(db):
    with translation.override("en"):
        entry = audit("request.created", number="15/UBND-NN")
    assert entry.message == "Soạn công văn 15/UBND-NN"
    assert entry.data == {"number": "15/UBND-NN"}
    given = audit("request.created", message="tự ghi", number="1")
    assert given.message == "tự ghi"


def test_a_notification_is_worded_in_the_site_s_language_with_its_parameters(tree):
    officer = factories.user("xa1", tree.c1)
    with translation.override("en"):
        notify([officer], gettext_lazy("Duyệt"))
        notify(
            [officer],
            gettext_lazy("Báo cáo theo công văn %(number)s đã được duyệt."),
            params={"number": "15/UBND-NN"},
        )
    assert [n.message for n in Notification.objects.order_by("pk")] == [
        "Duyệt",
        "Báo cáo theo công văn 15/UBND-NN đã được duyệt.",
    ]
