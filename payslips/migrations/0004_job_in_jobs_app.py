"""The job's foreign key points to ``jobs.Job`` (moved from ``integrations``; the same
table, so only the state changes and the database is not touched)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0001_initial'),
        ('payslips', '0003_i12_kivra_sandbox_print'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='payslipdelivery',
                    name='job',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.job', verbose_name='last job'),
                ),
            ],
        ),
    ]
