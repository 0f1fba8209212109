"""Report definitions point at the report request they answer (a foreign key, not its number
typed as text); the narrative kept in the definition goes: the submissions hold it."""

import django.db.models.deletion
from django.db import migrations, models


def link_requests(apps, schema_editor):
    ReportDefinition = apps.get_model("documents", "ReportDefinition")
    ReportRequest = apps.get_model("reporting", "ReportRequest")
    for definition in ReportDefinition.objects.exclude(narrative_request=""):
        request = (
            ReportRequest.objects.filter(number_symbol=definition.narrative_request)
            .order_by("-issued_on", "-pk")
            .first()
        )
        if request is not None:
            definition.request = request
            definition.save(update_fields=["request"])


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_initial"),
        ("programmes", "0001_initial"),
        ("reporting", "0001_initial"),
        ("units", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportdefinition",
            name="request",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="report_definitions",
                to="reporting.reportrequest",
                verbose_name="công văn yêu cầu báo cáo",
            ),
        ),
        migrations.RunPython(link_requests, migrations.RunPython.noop),
        migrations.RemoveField(model_name="reportdefinition", name="narrative"),
        migrations.RemoveField(model_name="reportdefinition", name="narrative_request"),
        migrations.AddConstraint(
            model_name="reportdefinition",
            constraint=models.UniqueConstraint(
                condition=models.Q(("request__isnull", False)),
                fields=("request", "unit"),
                name="reportdefinition_one_per_request_unit",
            ),
        ),
    ]
