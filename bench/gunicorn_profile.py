"""Gunicorn settings for `python -m bench --profile`: cProfile each booking request in the workers.

Each POST to /sessions/<id>/book is profiled on its own thread (cProfile follows one thread in
Python 3.11) and filed under the group the bench named for that session in BENCH_PROFILE_GROUPS
(JSON {session id: group}) and written at once to BENCH_PROFILE_DIR as <group>.<pid>.<n>.prof,
which the bench merges and prints. Writing it delays that answer by a few milliseconds: the
figures of a profiled rush are not the bench's figures.
"""
import cProfile
import itertools
import json
import os
import re

BOOKING = re.compile(r"^/sessions/(\d+)/book$")
_groups = {int(k): v for k, v in json.loads(os.environ.get("BENCH_PROFILE_GROUPS", "{}")).items()}
_numbers = itertools.count()


def _profiled(app):
    def middleware(environ, start_response):
        match = BOOKING.match(environ.get("PATH_INFO", ""))
        group = _groups.get(int(match.group(1))) if match and environ["REQUEST_METHOD"] == "POST" else None
        if group is None:
            return app(environ, start_response)
        profile = cProfile.Profile()
        profile.enable()
        try:
            # Read the whole answer inside the profile: rendering may happen while iterating.
            return [b"".join(app(environ, start_response))]
        finally:
            profile.disable()
            profile.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DIR"],
                                            f"{group}.{os.getpid()}.{next(_numbers)}.prof"))

    return middleware


def post_worker_init(worker):
    worker.wsgi = _profiled(worker.wsgi)
