"""An index of viewflow's open human tasks, for the inbox (issue 10).

The inbox counts and orders a person's open tasks: assigned to them, offered to a
permission they hold, or their unit's (workflows.actions.inbox). viewflow indexes the
task table's status and owner apart, over every task ever made (at 100,000 projects:
236,000 tasks, 42,000 of them open), so counting bureau staff's 16,000 read a table row
for each of the 42,000 open tasks. This partial index holds the open human tasks alone,
with every column the inbox filters and sorts by, so they are counted and ordered from
the index without reading the table (an index-only scan); its leading columns find the
tasks offered to one permission (the leadership's 1,000) directly.

PostgreSQL only (INCLUDE is its own); nothing on SQLite, whose tables stay small
(development and the tests). A plain CREATE INDEX: at 42,000 open tasks it takes well
under a second, during which tasks cannot be written.
"""

from django.db import migrations

INDEX = "workflows_open_human_task"
CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX} ON viewflow_task
    (owner_permission, owner_id, created, id) INCLUDE (process_id)
    WHERE status IN ('NEW', 'ASSIGNED', 'STARTED') AND flow_task_type = 'HUMAN'
"""
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0001_initial"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
