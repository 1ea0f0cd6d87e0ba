from flask import Blueprint


class CoursesBlueprint(Blueprint):
    """Imports its views when registered, not when the package is imported.

    app.bookings.models imports app.courses.models; importing the views (which use the bookings
    package) as a side effect of that would be a circular import.
    """

    def register(self, app, options):
        from . import admin_views, demo, views  # noqa: F401

        super().register(app, options)


bp = CoursesBlueprint("courses", __name__)
