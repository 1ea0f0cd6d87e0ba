"""Showing a service's refusal on the page that asked for the change."""
from flask import flash


def show_refusal(form, exc) -> None:
    """Show a domain error beside the field it names, or as an error banner when it names none."""
    field = getattr(form, exc.field, None) if getattr(exc, "field", None) else None
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        flash(exc.message, "error")
