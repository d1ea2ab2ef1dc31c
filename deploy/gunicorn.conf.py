"""gunicorn settings for Origin: `gunicorn --config deploy/gunicorn.conf.py` (deploy/systemd/origin-web.service).

Every value can be overridden from the environment (GUNICORN_BIND, GUNICORN_WORKERS, ...), so one file
serves every host. The access log carries the request id the app gives each request (its X-Request-ID
response header; the same id is on every line the request writes to logs/application.log), and it
is written through a WatchedFileHandler, so `flask rotate-logs` or logrotate may rename it at any time.
"""
import multiprocessing
import os
from pathlib import Path

HOME = Path(os.environ.get("ORIGIN_HOME", Path(__file__).resolve().parent.parent))
LOG_DIR = Path(os.environ.get("ORIGIN_LOG_DIR", HOME / "logs"))
LOG_DIR.mkdir(parents=True, exist_ok=True)

wsgi_app = "app:create_app()"
chdir = str(HOME)
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# sync workers: the app is request/response over a database; 2 x cores + 1 is gunicorn's own advice
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))  # a worker silent this long is killed and replaced
graceful_timeout = 30  # finish requests in flight on reload or stop
keepalive = 5  # behind nginx's keep-alive upstream
max_requests = 2000  # recycle workers now and then (bounded memory), staggered
max_requests_jitter = 200
limit_request_line = 8190
limit_request_fields = 100
# nginx on the same host sets X-Forwarded-*; the app believes TRUSTED_PROXIES hops of them (ProxyFix)
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "origin"

# host, user, time, request line, status, bytes, referrer, agent, duration in ms, request id
access_log_format = ('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
                     '%(M)sms rid=%({x-request-id}o)s')

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "access": {"format": "%(message)s"},
        "error": {"format": "%(asctime)s %(levelname)s [gunicorn] %(message)s"},
    },
    "handlers": {
        "access": {"class": "logging.handlers.WatchedFileHandler", "formatter": "access",
                   "filename": str(LOG_DIR / "access.log"), "encoding": "utf-8"},
        "error": {"class": "logging.handlers.WatchedFileHandler", "formatter": "error",
                  "filename": str(LOG_DIR / "gunicorn.log"), "encoding": "utf-8"},
    },
    "root": {"level": "INFO", "handlers": []},  # the app configures its own logs/application.log
    "loggers": {
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
    },
}
accesslog = "-"  # switches the access logger on; its handler above decides where lines go


def post_worker_init(worker):
    """Each worker compiles the templates and loads its libraries before its first request (app.bootstrap
    warm_up), so no user's request pays for them; runs again for every worker max_requests replaces."""
    from app.bootstrap import warm_up

    timings = warm_up(worker.wsgi)  # the Flask app wsgi_app names
    worker.log.info("worker %s warmed up: %s", worker.pid,
                    ", ".join(f"{part} {seconds * 1000:.0f} ms" for part, seconds in timings.items()))
