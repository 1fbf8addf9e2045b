"""What a browser sends back for a form as shown: for the admin and fuzz tests."""

from __future__ import annotations

from django import forms


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
