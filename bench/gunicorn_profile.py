"""Gunicorn settings for `python -m bench --profile`: cProfile each booking request in the workers.

Each POST to /sessions/<id>/book is profiled on its own thread (cProfile follows one thread in
Python 3.11) and filed under the group the bench named for that session in BENCH_PROFILE_GROUPS
(JSON {session id: group}); when a worker exits it writes one pstats file per group to
BENCH_PROFILE_DIR, which the bench merges and prints.
"""
import cProfile
import json
import os
import pstats
import re
import threading

BOOKING = re.compile(r"^/sessions/(\d+)/book$")
_groups = {int(k): v for k, v in json.loads(os.environ.get("BENCH_PROFILE_GROUPS", "{}")).items()}
_profiles: dict[str, list[cProfile.Profile]] = {}
_lock = threading.Lock()


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
            with _lock:
                _profiles.setdefault(group, []).append(profile)

    return middleware


def post_worker_init(worker):
    worker.wsgi = _profiled(worker.wsgi)


def worker_exit(server, worker):
    folder = os.environ["BENCH_PROFILE_DIR"]
    for group, profiles in _profiles.items():
        stats = pstats.Stats(*profiles)
        stats.dump_stats(os.path.join(folder, f"{group}.{os.getpid()}.prof"))
