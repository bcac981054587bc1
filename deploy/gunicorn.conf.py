# gunicorn settings for Kapstone: `gunicorn -c deploy/gunicorn.conf.py` (kapstone-web.service).
#
# Listens on loopback only; nginx (deploy/nginx/kapstone.conf) terminates TLS in front of it and
# sets X-Forwarded-Proto, which Django trusts under KAPSTONE_PROFILE=production.
import os

wsgi_app = "kapstone.wsgi:application"

# KAPSTONE_BIND: host:port on loopback, or unix:/run/kapstone/gunicorn.sock.
bind = os.environ.get("KAPSTONE_BIND", "127.0.0.1:8000")
# Synchronous workers: each handles one request at a time. 2-4 per core is usual; PDF and chart
# rendering are CPU-bound, so start at 2 per core.
workers = int(os.environ.get("KAPSTONE_WEB_WORKERS", str(2 * (os.cpu_count() or 1))))
# A PDF report may take a while; anything slower than this is killed and logged.
timeout = int(os.environ.get("KAPSTONE_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then so a slow leak cannot grow without bound (0: never; bench/web_load.py
# measures steady state, where a restart's start-up would land inside a 15-second run).
max_requests = int(os.environ.get("KAPSTONE_WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Only nginx on this machine may say the request came over HTTPS.
forwarded_allow_ips = "127.0.0.1,::1"

# One JSON object per line (the journal): request lines with the path only, never the query
# string, and the request id Django gave the response; gunicorn's own messages as JSON too.
accesslog = "-"
logger_class = "kapstone.web.access_log.JsonLogger"
errorlog = "-"
loglevel = os.environ.get("KAPSTONE_GUNICORN_LOG_LEVEL", "info")
# The name `ps` and the journal show.
proc_name = "kapstone-web"


def post_worker_init(worker):
    """Loads every view and WeasyPrint (seconds) before the worker takes requests, so its first
    page and first PDF are as fast as the next (kapstone.web.warmup)."""
    from kapstone.web.warmup import warm_up

    worker.log.info("Views and WeasyPrint loaded in %.1f s", warm_up())
