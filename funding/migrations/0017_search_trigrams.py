# The project list's search (issue 10): trigram indexes (pg_trgm) on the columns it reads
# with icontains, which Django writes as UPPER(column::text) LIKE UPPER(term). A term of
# three characters or more is then looked up instead of upper-casing every project's title
# and field. PostgreSQL only: on SQLite this migration does nothing. The organisations and
# people the search also reads are a few hundred and a few thousand rows, read whole.

from django.db import migrations

INDEXES = {  # name: (table, column)
    "project_title_trgm": ("funding_project", "title"),
    "project_field_trgm": ("funding_project", "field"),
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
        ("funding", "0016_list_indexes"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
