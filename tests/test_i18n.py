"""Every label a user sees has a Chinese translation (zh-hans is the default)."""

import pytest
from django.utils import translation

from accounts.roles import Role
from funding.states import ProjectStatus
from workflows.flows import ProjectFlow
from workflows.lifecycle import transition_labels


def untranslated(labels) -> list[str]:
    with translation.override("en"):
        english = [str(label) for label in labels]
    with translation.override("zh-hans"):
        chinese = [str(label) for label in labels]
    return [en for en, zh in zip(english, chinese, strict=True) if en == zh]


def test_every_action_label_is_translated():
    assert untranslated(list(transition_labels().values())) == []


def test_every_state_and_role_is_translated():
    assert untranslated([s.label for s in ProjectStatus] + [r.label for r in Role]) == []


def test_every_task_title_is_translated():
    titles = [node.task_title for node in ProjectFlow.instance.nodes() if node.task_title]
    assert untranslated([t for t in titles if not isinstance(t, str)]) == []


@pytest.mark.django_db
def test_the_project_page_speaks_chinese(client, county, draft):
    client.force_login(county.users["applicant"])
    html = client.get(f"/projects/{draft.pk}/").content.decode()
    assert "签署承诺书并提交" in html and "Sign the commitment" not in html


def test_the_catalogue_has_no_untranslated_or_fuzzy_entry():
    import shutil
    import subprocess
    from pathlib import Path

    if not shutil.which("msgattrib"):
        pytest.skip("gettext is not installed")
    po = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"
    for flag in ("--untranslated", "--only-fuzzy"):
        out = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", str(po)], capture_output=True, text=True
        ).stdout
        entries = [line for line in out.splitlines() if line.startswith("msgid ")]
        assert entries in ([], ['msgid ""']), f"{flag}: {entries}"
