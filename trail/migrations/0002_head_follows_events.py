"""A trigger keeps the chain head in step with every inserted event.

Appending then costs two statements (lock the head, insert the event) instead of three,
and the head cannot drift from the journal whoever inserts.
"""

from django.db import migrations

POSTGRES = """
CREATE OR REPLACE FUNCTION trail_head_follows_event() RETURNS trigger AS $$
BEGIN
    UPDATE trail_chainhead SET seq = NEW.seq, last_hash = NEW.hash WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER trail_head_follows_event AFTER INSERT ON trail_event
    FOR EACH ROW EXECUTE FUNCTION trail_head_follows_event();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS trail_head_follows_event ON trail_event;
DROP FUNCTION IF EXISTS trail_head_follows_event();
"""
SQLITE = """
CREATE TRIGGER trail_head_follows_event AFTER INSERT ON trail_event
BEGIN
    UPDATE trail_chainhead SET seq = NEW.seq, last_hash = NEW.hash WHERE id = 1;
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS trail_head_follows_event;"


def _run(sql_by_vendor):
    def run(apps, schema_editor):
        sql = sql_by_vendor.get(schema_editor.connection.vendor)
        if sql is None:
            raise RuntimeError("trail needs PostgreSQL or SQLite")
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)

    return run


def create_head(apps, schema_editor):
    apps.get_model("trail", "ChainHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("trail", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}),
        ),
    ]
