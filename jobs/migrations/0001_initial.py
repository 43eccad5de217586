"""The job framework's models move here from ``integrations``, without moving any data.

Only Django's state moves: the tables keep their names (``db_table``: ``integrations_job``,
``integrations_joblogline``, ``integrations_jobchunk``), so the database is not touched.
``integrations.0006`` removes the models from the state of ``integrations`` once every
foreign key to them points here (payslips 0004, ledger 0004, paxml 0003).

The models' content types move with them (their rows get the app label ``jobs``), so the
permissions that roles hold (``integrations.view_job`` ...) become ``jobs.view_job`` ...
with the same rows: custom roles keep them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("job", "joblogline", "jobchunk")


def content_types_to(app_label, other):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for model in MODELS:
            if ContentType.objects.using(db).filter(app_label=app_label, model=model).exists():
                continue
            ContentType.objects.using(db).filter(app_label=other, model=model).update(
                app_label=app_label
            )

    return move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('companies', '0002_i17_time_permissions'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('integrations', '0005_merge_i12_i14_i16_i18'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Job',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.SlugField(max_length=64, verbose_name='kind')),
                        ('parameters', models.JSONField(blank=True, default=dict, verbose_name='parameters')),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('partly_failed', 'Partly failed'), ('cancelled', 'Cancelled')], db_index=True, default='queued', max_length=16, verbose_name='status')),
                        ('progress_done', models.PositiveIntegerField(default=0, verbose_name='done')),
                        ('progress_total', models.PositiveIntegerField(default=0, verbose_name='total')),
                        ('summary', models.JSONField(blank=True, default=dict, verbose_name='summary')),
                        ('message', models.TextField(blank=True, verbose_name='message')),
                        ('message_id', models.CharField(blank=True, max_length=100, verbose_name='message id')),
                        ('message_params', models.JSONField(blank=True, default=dict, verbose_name='message parameters')),
                        ('cancel_requested', models.BooleanField(default=False, verbose_name='cancel requested')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                        ('result_file', models.FileField(blank=True, upload_to='jobs/%Y/%m/', verbose_name='result file')),
                        ('result_file_holds', models.JSONField(blank=True, default=list, help_text='Personal data in the result file (FileHolds); each needs its capability.', verbose_name='the file holds')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                        ('company', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='companies.company', verbose_name='company')),
                        ('started_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='started by')),
                    ],
                    options={
                        'verbose_name': 'job',
                        'verbose_name_plural': 'jobs',
                        'db_table': 'integrations_job',
                        'ordering': ['-created_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='JobChunk',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField(verbose_name='number')),
                        ('items', models.JSONField(blank=True, default=list, verbose_name='items')),
                        ('status', models.CharField(choices=[('waiting', 'Waiting'), ('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=16, verbose_name='status')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                        ('worker', models.CharField(blank=True, max_length=200, verbose_name='worker')),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True, verbose_name='heartbeat')),
                        ('done', models.PositiveIntegerField(default=0, verbose_name='done')),
                        ('errors', models.PositiveIntegerField(default=0, verbose_name='errors')),
                        ('summary', models.JSONField(blank=True, default=dict, verbose_name='summary')),
                        ('output', models.JSONField(blank=True, default=dict, verbose_name='output')),
                        ('message', models.TextField(blank=True, verbose_name='message')),
                        ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='chunks', to='jobs.job')),
                    ],
                    options={
                        'verbose_name': 'job chunk',
                        'verbose_name_plural': 'job chunks',
                        'db_table': 'integrations_jobchunk',
                        'ordering': ['job', 'number'],
                    },
                ),
                migrations.CreateModel(
                    name='JobLogLine',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('level', models.CharField(choices=[('info', 'Info'), ('warning', 'Warning'), ('error', 'Error')], default='info', max_length=8, verbose_name='level')),
                        ('item', models.CharField(blank=True, help_text='Employee, payslip, row ...', max_length=200, verbose_name='item')),
                        ('message', models.TextField(verbose_name='message')),
                        ('message_id', models.CharField(blank=True, max_length=100, verbose_name='message id')),
                        ('message_params', models.JSONField(blank=True, default=dict, verbose_name='message parameters')),
                        ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='log_lines', to='jobs.job')),
                    ],
                    options={
                        'verbose_name': 'job log line',
                        'verbose_name_plural': 'job log lines',
                        'db_table': 'integrations_joblogline',
                        'ordering': ['job', 'pk'],
                    },
                ),
                migrations.AddIndex(
                    model_name='job',
                    index=models.Index(fields=['company', 'kind', '-created_at'], name='integration_company_16b8cd_idx'),
                ),
                migrations.AddIndex(
                    model_name='jobchunk',
                    index=models.Index(fields=['job', 'status'], name='integration_job_id_df47f3_idx'),
                ),
                migrations.AddConstraint(
                    model_name='jobchunk',
                    constraint=models.UniqueConstraint(fields=('job', 'number'), name='jobchunk_once_per_number'),
                ),
            ],
        ),
        migrations.RunPython(
            content_types_to("jobs", "integrations"), content_types_to("integrations", "jobs")
        ),
    ]
