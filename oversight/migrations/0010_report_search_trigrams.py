# The tech reports' search (issue 10): trigram indexes (pg_trgm) on the title, the abstract
# and the keywords, which the search reads with icontains (UPPER(column::text) LIKE
# UPPER(term)): a word of three characters or more is looked up instead of upper-casing
# every published report's abstract. PostgreSQL only: on SQLite this does nothing.

from django.db import migrations

INDEXES = {  # name: (table, column)
    "tech_report_title_trgm": ("oversight_techreport", "title"),
    "tech_report_abstract_trgm": ("oversight_techreport", "abstract"),
    "tech_report_keywords_trgm": ("oversight_techreport", "keywords"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0009_tech_report_by_title"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
