from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tiendo.core.models import AuditEntry, Notification


def test_reminders_send_notifies_units_that_owe_the_report(cycle):
    out = StringIO()
    call_command("reminders", "send", stdout=out)
    assert "15/UBND-NN: nhắc 3 đơn vị chưa gửi báo cáo." in out.getvalue()
    assert Notification.objects.filter(
        recipient=cycle.commune_officer, message__startswith="Nhắc"
    ).exists()
    assert AuditEntry.objects.filter(action="request.reminded").count() == 1


def test_reminders_needs_its_subcommand_and_a_known_request(cycle):
    with pytest.raises(CommandError, match="reminders send"):
        call_command("reminders")
    with pytest.raises(CommandError, match="999"):
        call_command("reminders", "send", "--request", "999")
