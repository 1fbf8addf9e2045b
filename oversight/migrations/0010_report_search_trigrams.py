# The tech reports' search (issue 10): trigram indexes (pg_trgm) on the title, the abstract
# and the keywords, which the search reads with icontains (UPPER(column::text) LIKE
# UPPER(term)): a word of three characters or more is looked up instead of upper-casing
# every published report's abstract. PostgreSQL only: on SQLite this does nothing.

from django.db import migrations

from lists.trigrams import trigram_indexes

INDEXES = {  # name: (table, column)
    "tech_report_title_trgm": ("oversight_techreport", "title"),
    "tech_report_abstract_trgm": ("oversight_techreport", "abstract"),
    "tech_report_keywords_trgm": ("oversight_techreport", "keywords"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0009_tech_report_by_title"),
    ]

    operations = [
        trigram_indexes(INDEXES),
    ]
