"""Numbers in series: the register's MT- and, beside it, the series of kinds that number
on their own (quotes, invoices). The counter's key becomes (series, year); the old
counter's rows are copied into the MT series."""

from django.db import migrations, models


def copy_counters(apps, schema_editor):
    Old = apps.get_model("school", "YearCounter")
    New = apps.get_model("school", "DocumentCounter")
    New.objects.bulk_create(New(series="MT", year=c.year, last=c.last) for c in Old.objects.all())


def copy_back(apps, schema_editor):
    Old = apps.get_model("school", "YearCounter")
    New = apps.get_model("school", "DocumentCounter")
    Old.objects.bulk_create(
        Old(year=c.year, last=c.last) for c in New.objects.filter(series="MT")
    )


class Migration(migrations.Migration):
    dependencies = [("school", "0006_learner_anonymised_at")]

    operations = [
        migrations.RenameModel("DocumentCounter", "YearCounter"),
        migrations.CreateModel(
            name="DocumentCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("series", models.CharField(default="MT", max_length=4, verbose_name="série")),
                ("year", models.PositiveSmallIntegerField(verbose_name="année")),
                ("last", models.PositiveIntegerField(default=0)),
            ],
            options={
                "verbose_name": "compteur de documents",
                "verbose_name_plural": "compteurs de documents",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("series", "year"), name="one_counter_per_series_year"
                    )
                ],
            },
        ),
        migrations.RunPython(copy_counters, copy_back),
        migrations.DeleteModel("YearCounter"),
        migrations.AddField(
            model_name="issueddocument",
            name="series",
            field=models.CharField(default="MT", max_length=4, verbose_name="série"),
        ),
        migrations.AddField(
            model_name="historicalissueddocument",
            name="series",
            field=models.CharField(default="MT", max_length=4, verbose_name="série"),
        ),
        migrations.RemoveConstraint(model_name="issueddocument", name="document_number_once_a_year"),
        migrations.AddConstraint(
            model_name="issueddocument",
            constraint=models.UniqueConstraint(
                fields=("series", "year", "sequence"), name="document_number_once_a_year"
            ),
        ),
    ]
