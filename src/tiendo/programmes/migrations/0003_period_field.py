"""The period columns become PeriodFields (read and written as Period).

Only the migration state changes: the column stays varchar(20) with the same contents, so
the database is not touched (SQLite would otherwise copy each table to alter nothing).
"""

from django.db import migrations

import tiendo.programmes.fields


class Migration(migrations.Migration):
    dependencies = [
        ("programmes", "0002_indicator_aggregation_last_in_period"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="programme",
                    name="period",
                    field=tiendo.programmes.fields.PeriodField(
                        max_length=20, verbose_name="giai đoạn"
                    ),
                ),
                migrations.AlterField(
                    model_name="target",
                    name="period",
                    field=tiendo.programmes.fields.PeriodField(max_length=20, verbose_name="kỳ"),
                ),
            ],
        ),
    ]
