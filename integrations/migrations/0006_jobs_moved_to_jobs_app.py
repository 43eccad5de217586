"""The job framework's models left for the ``jobs`` app (see ``jobs.0001_initial``).

State only: the foreign keys to ``Job`` point to ``jobs.Job`` (the same table) and the
models leave this app's state. Their tables stay as they are and now belong to ``jobs``.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0005_merge_i12_i14_i16_i18'),
        ('jobs', '0001_initial'),
        # Every other app's foreign key to integrations.Job points to jobs.Job first.
        ('ledger', '0004_job_in_jobs_app'),
        ('paxml', '0003_job_in_jobs_app'),
        ('payslips', '0004_job_in_jobs_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='switchoverevent',
                    name='job',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.job'),
                ),
                migrations.AlterField(
                    model_name='payrollsyncdelivery',
                    name='job',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.job'),
                ),
                migrations.DeleteModel(name='JobChunk'),
                migrations.DeleteModel(name='JobLogLine'),
                migrations.DeleteModel(name='Job'),
            ],
        ),
    ]
