from django.db import migrations, models


def _tag_existing_files(apps, schema_editor):
    """Files written before the tags existed: assume they hold everything (the strictest)."""
    Job = apps.get_model("integrations", "Job")
    Job.objects.exclude(result_file="").update(
        result_file_holds=["personal_identity_numbers", "bank_details", "salaries"]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_switchover_hr_changes_personnel_file"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="result_file_holds",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Personal data in the result file (FileHolds); each needs its capability.",
                verbose_name="the file holds",
            ),
        ),
        migrations.RunPython(_tag_existing_files, migrations.RunPython.noop),
    ]
