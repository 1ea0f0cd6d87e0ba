"""gunicorn settings for the training system: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Read by deploy/systemd/training-web.service. Three values can be set in the environment (or .env)
without editing this file: GUNICORN_BIND, WEB_CONCURRENCY (workers) and GUNICORN_THREADS; and
gunicorn itself reads FORWARDED_ALLOW_IPS.
"""
import multiprocessing
import os

wsgi_app = "wsgi:app"
proc_name = "training-web"

# nginx on the same machine proxies to this address; nothing else should reach gunicorn.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Threads, because most of a request is waiting on PostgreSQL: a booking holds its session's row
# lock for a few milliseconds while others queue behind it, and a worker with threads serves other
# pages meanwhile. Several workers, because PDFs (registers, certificates) and XLSX exports spend
# a second or two of CPU each and hold the GIL while they do. 2 x CPUs workers of 4 threads keeps
# both busy; every thread may hold one database connection, so servers x workers x threads must
# stay under PostgreSQL's max_connections (README, Running on more than one machine).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count(), 8)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# A request that runs longer than a minute is stuck (the slowest, a large report's export, takes a
# few seconds): its worker is killed and replaced. On a stop or reload, requests under way get 30
# seconds to finish (the web unit's TimeoutStopSec allows for it).
timeout = 60
graceful_timeout = 30
# Longer than nginx keeps an idle upstream connection, so gunicorn never closes one under it.
keepalive = 5

# Each worker is replaced after about 1,000 requests, at staggered times (the jitter), so memory
# that PDF fonts and report caches take cannot grow without bound and never all at once.
max_requests = 1000
max_requests_jitter = 100

# The proxies whose X-Forwarded-Proto gunicorn believes (nginx on this machine). The app's own
# TRUSTED_PROXY_HOPS does the same for the client's address and the scheme (werkzeug ProxyFix).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Each worker imports the app itself (no preload): a reload (systemctl reload, SIGHUP) then starts
# workers on the new code, and no database connection is opened before the fork.
preload_app = False

# Logs go to stderr, which systemd keeps in the journal. No gunicorn access log: the app writes
# one line per request itself (README, Health checks and logs), with the route rather than the path
# (paths hold secret links, and query strings search words), the request id and no address.
errorlog = "-"
accesslog = None
loglevel = "info"

# The heartbeat file each worker touches lives in memory, so a slow disk cannot make gunicorn
# think a worker hung; no control socket (it would want a home directory the service user lacks).
worker_tmp_dir = "/dev/shm"
control_socket_disable = True


def child_exit(server, worker):
    """Prometheus metrics from several workers (README, Metrics and alerts): each worker keeps its
    figures in PROMETHEUS_MULTIPROC_DIR; one that ends is marked dead, so its pool gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # only where the metrics' directory is set

        multiprocess.mark_process_dead(worker.pid)
