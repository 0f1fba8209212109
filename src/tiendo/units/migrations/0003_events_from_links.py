"""Give every existing merge/split link an event (and its legal basis a legal act).

Units, links and values keep every stored value; links only gain their event.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from tiendo.units.event_links import attach_events

    attach_events(
        apps.get_model("units", "UnitChange"),
        apps.get_model("units", "UnitEvent"),
        apps.get_model("units", "LegalAct"),
    )


def backwards(apps, schema_editor):
    apps.get_model("units", "UnitChange").objects.update(event=None)
    apps.get_model("units", "UnitEvent").objects.all().delete()
    apps.get_model("units", "LegalAct").objects.filter(events__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("units", "0002_events_models")]

    operations = [migrations.RunPython(forwards, backwards)]
