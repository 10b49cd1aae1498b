"""gunicorn settings shared by `make run` and the Procfile (each passes only --bind).

gevent is patched in here, in the master and before the app is preloaded, so that the locks, queues
and sockets the app creates at import (SQLAlchemy's pool, the Slack bot's executors) and psycopg's wait
function are cooperative in every forked worker; patching only in the worker would leave them blocking.
"""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402  (after the patch, on purpose)

wsgi_app = "service.wsgi:app"
preload_app = True  # the engine (index, jieba, numba) is built once, then shared by fork
worker_class = "service.server.Worker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = 1000  # per worker; an idle connection costs a greenlet and a file descriptor
# Headers of each request (the first one too) must arrive within this many seconds; below
# POLICY_QA_BODY_READ_TIMEOUT so that the quiet gevent timeout, not a socket error, closes idle clients.
keepalive = 5
timeout = 30  # heartbeat: a worker stuck this long in one computation is replaced
graceful_timeout = 20  # SIGTERM: stop accepting, finish in-flight requests for up to this long
# Request line and header limits stay gunicorn's (4094 / 100 / 8190 bytes); deploy/nginx refuses
# oversize requests first, and service.server.Worker answers the rest in JSON.
accesslog = "-"
control_socket_disable = True  # gunicornc is not used; its default path is shared by every gunicorn of the user


def when_ready(server):
    """Let the greenlets the preloaded app started (limits' expiry timers) finish here, not in forked copies."""
    import gevent

    gevent.sleep(0.1)
