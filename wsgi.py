"""Entry point for gunicorn: `gunicorn wsgi:app`."""
import gc

from app import create_app

app = create_app()
# What starting the app made (modules, models' mappers, the URL map) lives as long as the process:
# keep it out of the garbage collector's full passes, which would otherwise walk all of it each time
# a busy worker's allocations trigger one.
gc.freeze()
