"""The period columns become PeriodFields (read and written as Period).

Only the migration state changes: the column stays varchar(20) with the same contents, so
the database is not touched (SQLite would otherwise copy each table to alter nothing).
"""

from django.db import migrations

import tiendo.programmes.fields


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0003_datavalue_pivot_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="datavalue",
                    name="period",
                    field=tiendo.programmes.fields.PeriodField(max_length=20, verbose_name="kỳ"),
                ),
                migrations.AlterField(
                    model_name="datavaluechange",
                    name="period",
                    field=tiendo.programmes.fields.PeriodField(max_length=20),
                ),
                migrations.AlterField(
                    model_name="rollup",
                    name="period",
                    field=tiendo.programmes.fields.PeriodField(max_length=20),
                ),
                migrations.AlterField(
                    model_name="validationfinding",
                    name="period",
                    field=tiendo.programmes.fields.PeriodField(max_length=20, verbose_name="kỳ"),
                ),
            ],
        ),
    ]
