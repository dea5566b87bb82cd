"""How crisis-ct is served: gunicorn's settings, read by `make run` and by the HTTP
benchmarks (bench/served.py) alike (`gunicorn -c python:crisis_ct.serving`), so the
benchmarks measure what runs. The bind address comes from the command line."""

# 2 cores: one process per core (the GIL makes threads no substitute for processes) and a
# few threads each, so a request waiting on PostgreSQL leaves its core to another one.
worker_class = "gthread"
workers = 2
threads = 4
keepalive = 30
# Each worker accepts on its own socket and the kernel spreads new connections by hash. On
# one shared socket the busiest worker kept winning the accept race: of 50 keep-alive clients
# connecting at once, 41 to 46 landed on one worker (one core) for good.
reuse_port = True
# Each worker opens one database connection per thread and prepares the hot statements on it
# before taking requests (crisis_ct.web_db).
wsgi_app = f"crisis_ct.app:create_app({{'DB_WARM_CONNECTIONS': {threads}}})"
