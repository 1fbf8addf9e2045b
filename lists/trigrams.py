"""Trigram indexes for the lists' searches (issue 10), used by the migrations that add them.

Django's `icontains` on PostgreSQL is `UPPER(column::text) LIKE UPPER(term)`; a GIN index
of pg_trgm on that very expression looks up a term of three characters or more instead of
upper-casing every row. PostgreSQL only: elsewhere the operation does nothing. The
extension ships with Debian's postgresql package and is trusted (the database's owner may
create it).
"""

from __future__ import annotations

from django.db import migrations


def trigram_indexes(indexes: dict[str, tuple[str, str]]) -> migrations.RunPython:
    """A reversible operation creating `{name: (table, column)}` trigram indexes."""

    def create(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, (table, column) in indexes.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )

    def drop(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(create, drop)
