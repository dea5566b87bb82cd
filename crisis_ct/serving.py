"""How crisis-ct is served: gunicorn's settings, read by `make run` and by the HTTP
benchmarks (bench/served.py) alike (`gunicorn -c python:crisis_ct.serving`), so the
benchmarks measure what runs. The bind address comes from the command line."""
import logging

from crisis_ct.config import var_dir

# 2 cores: one process per core (the GIL makes threads no substitute for processes) and a
# few threads each, so a request waiting on PostgreSQL leaves its core to another one.
worker_class = "gthread"
workers = 2
threads = 4
keepalive = 30
# SIGTERM: requests in flight get this long; `make run` and systemd stop within 10 s.
graceful_timeout = 5
# Each worker accepts on its own socket and the kernel spreads new connections by hash. On
# one shared socket the busiest worker kept winning the accept race: of 50 keep-alive clients
# connecting at once, 41 to 46 landed on one worker (one core) for good.
reuse_port = True
# Each worker opens one database connection per thread and prepares the hot statements on it
# before taking requests (crisis_ct.web_db).
wsgi_app = f"crisis_ct.app:create_app({{'DB_WARM_CONNECTIONS': {threads}}})"


def _address_text(address) -> str:
    if isinstance(address, tuple):
        host, port = address[0], address[1]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return f"unix:{address}"


class _ListeningAddress(logging.Filter):
    """With reuse_port the master opens no socket of its own (each worker opens one), so
    gunicorn's "Listening at:" line would name no address: fill in the bound ones."""

    def __init__(self, addresses: str):
        super().__init__()
        self.addresses = addresses

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Listening at") and record.args and not record.args[0]:
            record.args = (f"{self.addresses} (a socket per worker, SO_REUSEPORT)", *record.args[1:])
        return True


def on_starting(server) -> None:
    addresses = [_address_text(address) for address in server.cfg.address]
    server.log.error_log.addFilter(_ListeningAddress(",".join(addresses)))
    # The control socket (gunicornc) of this instance under var/, named by its first port: the
    # default, one file in $HOME, was shared (and taken over) by every instance of every checkout.
    if server.cfg.control_socket == server.cfg.settings["control_socket"].default:
        first = server.cfg.address[0]
        name = f"gunicorn-{first[1]}.ctl" if isinstance(first, tuple) else "gunicorn-unix.ctl"
        path = var_dir() / "run" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        server.cfg.set("control_socket", str(path))
