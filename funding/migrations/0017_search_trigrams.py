# The project list's search (issue 10): trigram indexes (pg_trgm) on the columns it reads
# with icontains, which Django writes as UPPER(column::text) LIKE UPPER(term). A term of
# three characters or more is then looked up instead of upper-casing every project's title
# and field. PostgreSQL only: on SQLite this migration does nothing. The organisations and
# people the search also reads are a few hundred and a few thousand rows, read whole.

from django.db import migrations

from lists.trigrams import trigram_indexes

INDEXES = {  # name: (table, column)
    "project_title_trgm": ("funding_project", "title"),
    "project_field_trgm": ("funding_project", "field"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("funding", "0016_list_indexes"),
    ]

    operations = [
        trigram_indexes(INDEXES),
    ]
