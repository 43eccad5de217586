"""PayrollSyncDelivery extends flexbridge.outbox.Outbox: its fields take the outbox's names
(``payload`` → ``request_body``, ``last_error`` → ``error_message``) and keep their columns,
so the database does not change."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0005_merge_i12_i14_i16_i18"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(
                    model_name="payrollsyncdelivery", old_name="payload", new_name="request_body"
                ),
                migrations.AlterField(
                    model_name="payrollsyncdelivery",
                    name="request_body",
                    field=models.BinaryField(
                        db_column="payload", editable=False, verbose_name="payload"
                    ),
                ),
                migrations.RenameField(
                    model_name="payrollsyncdelivery",
                    old_name="last_error",
                    new_name="error_message",
                ),
                migrations.AlterField(
                    model_name="payrollsyncdelivery",
                    name="error_message",
                    field=models.TextField(
                        blank=True, db_column="last_error", verbose_name="last error"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="payrollsyncdelivery",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="created at"),
        ),
    ]
