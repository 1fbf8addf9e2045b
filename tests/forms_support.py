"""What a browser sends: a form as shown (admin, fuzz tests), a valid application."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from workflows import demo


def form_data(form: forms.BaseForm, **changes) -> dict:
    """What the browser would send back for the admin form as shown, with `changes`."""
    data = {}
    for bound in form:
        widget, value = bound.field.widget, bound.value()
        if bound.field.disabled:
            continue
        if isinstance(widget, forms.MultiWidget):
            for i, part in enumerate(widget.decompress(value)):
                data[f"{bound.html_name}_{i}"] = "" if part is None else str(part)
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(widget, forms.Select) and not widget.allow_multiple_selected:
            data[bound.html_name] = "" if value is None else str(value)
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        elif value is not None:
            data[bound.html_name] = str(widget.format_value(value) or "")
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def application_form(call, **overrides):
    today = timezone.localdate()
    data = {
        "title": "水稻病虫害智能监测预警技术研究与示范",
        "field": "农业科技",
        "summary": "建设县域监测网络。",
        "start_date": (today + datetime.timedelta(days=30)).isoformat(),
        "end_date": (today + datetime.timedelta(days=760)).isoformat(),
        "requested_amount": "600000.00",
        "equipment": "180000.00",
        "equipment_other": "0.00",
        "operations": "210000.00",
        "labour": "120000.00",
        "indirect": "90000.00",
        "team": f"黄助理, {demo.person_id(501)}, 田间试验",
    }
    data.update(overrides)
    return data
