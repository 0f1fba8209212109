"""Gunicorn settings of `make serve` (and of `make loadtest`), from environment variables.

``gunicorn -c python:tiendo.gunicorn_conf tiendo.wsgi``. Threaded workers: a request
mostly waits on the database, so a few threads per process serve many editors on a small
machine without a process (and its memory) per concurrent request.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# a report rendered through LibreOffice takes seconds; nothing legitimate takes a minute
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
# recycle workers now and then, so that a slow leak never grows without bound
max_requests = 2000
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# the control socket (one fixed path under $HOME) would clash between two servers on a machine
control_socket_disable = True
# import the application once in the master: workers start warm and share its memory
preload_app = True
