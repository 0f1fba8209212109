"""The period columns become PeriodFields (read and written as Period).

Only the migration state changes: the column stays varchar(20) with the same contents, so
the database is not touched (SQLite would otherwise copy each table to alter nothing).
"""

from django.db import migrations

import tiendo.programmes.fields


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0002_definition_request"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reportdefinition",
                    name="period",
                    field=tiendo.programmes.fields.PeriodField(
                        max_length=20, verbose_name="kỳ báo cáo"
                    ),
                ),
            ],
        ),
    ]
