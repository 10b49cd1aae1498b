"""Real servers on loopback for the front-door tests: gunicorn (gunicorn.conf.py), redis-server, nginx."""
from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

from tests.store.conftest import ROOT, free_port, unavailable

NGINX_SITE = ROOT / "deploy" / "nginx" / "policy-qa.conf"


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, seconds: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def connect(port: int, source: str = "127.0.0.1", timeout: float = 10, tls_ca: Path | None = None) -> socket.socket:
    """A connection from the given loopback address; over TLS (checked against tls_ca) when given."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    if tls_ca is None:
        return sock
    return ssl.create_default_context(cafile=str(tls_ca)).wrap_socket(sock, server_hostname="localhost")


def request_head(method: str, path: str, length: int, headers: dict | None = None, close: bool = True) -> bytes:
    head = {"Host": "localhost", "Content-Length": str(length), **({"Connection": "close"} if close else {}),
            **(headers or {})}
    return (f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n").encode()


def http(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None,
         source: str = "127.0.0.1", timeout: float = 10, tls_ca: Path | None = None) -> tuple[int, dict, bytes]:
    """One request on a fresh connection: (status, lower-cased headers, body)."""
    if body and "Content-Type" not in (headers or {}):
        headers = {"Content-Type": "application/json", **(headers or {})}
    with connect(port, source, timeout, tls_ca) as sock:
        sock.sendall(request_head(method, path, len(body), headers) + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return parse_response(data)


def parse_response(data: bytes) -> tuple[int, dict, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


def ask_body(question: str = "耕地保有量目标是多少？") -> bytes:
    return json.dumps({"question": question}, ensure_ascii=False).encode()


class Gunicorn:
    """gunicorn with the repository's gunicorn.conf.py, the store and index in a temp folder."""

    def __init__(self, tmp: Path, *args: str, **settings: object):
        self.port = free_port()
        self.log = tmp / "gunicorn.log"
        env = {**os.environ, "POLICY_QA_SQLITE_PATH": str(tmp / "store.sqlite3"), "POLICY_QA_INDEX_DIR": "",
               "POLICY_QA_LOG_LEVEL": "WARNING"}
        env.update({f"POLICY_QA_{k}": str(v) for k, v in settings.items()})
        self.url = f"sqlite:///{tmp / 'store.sqlite3'}"
        with open(self.log, "wb") as out:  # gunicorn.conf.py logs every request there too
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
                 "--bind", f"127.0.0.1:{self.port}", *args],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, self.process, self.log)
            # the port opens before the workers have booted: a connection waits until one accepts it
            status = http(self.port, "GET", "/healthz", timeout=60)[0]
            assert status == 200, self.log.read_text(errors="replace")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> str:
        stop(self.process)
        return self.log.read_text(errors="replace")


class Redis:
    """redis-server (Debian package) on a free loopback port, nothing saved, in a temp folder."""

    def __init__(self, tmp: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server not found (Debian package 'redis-server'; .ci/front-deps.sh)")
        self.binary, self.tmp, self.port = binary, tmp, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        self.log = self.tmp / "redis.log"
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.tmp),
             "--save", "", "--appendonly", "no", "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        self.log.touch()
        wait_for_port(self.port, self.process, self.log, 20)

    def stop(self) -> None:
        stop(self.process)


def render_site(template: str, values: dict[str, str]) -> str:
    """The site file with its ${NAME} placeholders filled, as `envsubst` does in production."""
    names = set(re.findall(r"\$\{([A-Z_]+)\}", template))
    assert names == set(values), f"placeholders {sorted(names)} vs values {sorted(values)}"
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values[m.group(1)], template)


class Nginx:
    """Debian's nginx in the foreground with a temp prefix, running deploy/nginx/policy-qa.conf."""

    def __init__(self, tmp: Path, upstream_port: int):
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if binary is None:
            unavailable("nginx not found (Debian package 'nginx'; .ci/front-deps.sh)")
        self.http_port, self.https_port = free_port(), free_port()
        self.tmp = tmp
        cert, key = tmp / "cert.pem", tmp / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True)
        site = render_site(NGINX_SITE.read_text(encoding="utf-8"), {
            "SERVER_NAME": "localhost", "HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "HTTPS_LISTEN": f"127.0.0.1:{self.https_port}", "TLS_CERTIFICATE": str(cert),
            "TLS_CERTIFICATE_KEY": str(key), "UPSTREAM": f"127.0.0.1:{upstream_port}",
        })
        (tmp / "policy-qa.conf").write_text(site, encoding="utf-8")
        # what Debian's /etc/nginx/nginx.conf provides around conf.d/, with every path in tmp
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        temp_paths = "".join(f"{kind}_temp_path {tmp / kind};\n"
                             for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (tmp / "nginx.conf").write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {tmp / 'nginx.pid'};
error_log {tmp / 'error.log'} warn;
events {{ worker_connections 2048; }}
http {{
    default_type application/octet-stream;
    access_log {tmp / 'access.log'};
    {temp_paths}
    include {tmp / 'policy-qa.conf'};
}}
""", encoding="utf-8")
        self.log = tmp / "error.log"
        self.log.touch()
        with open(tmp / "stderr.log", "wb") as out:
            self.process = subprocess.Popen([binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"),
                                             "-e", str(self.log)], stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.https_port, self.process, tmp / "stderr.log", 20)

    def stop(self) -> str:
        stop(self.process)  # SIGTERM: nginx's fast shutdown
        return self.log.read_text(errors="replace")


class HeldConnections:
    """`idle` connections that never send a byte and `slow` ones sending a question's body a byte at a time."""

    BODY = ask_body() + b" " * 400  # JSON may end in spaces; at 2 bytes a second it never completes here

    def __init__(self, port: int, idle: int, slow: int, tls_ca: Path | None = None, interval: float = 0.5):
        self.idle = [connect(port) for _ in range(idle)]
        self.slow = []
        for _ in range(slow):
            sock = connect(port, tls_ca=tls_ca)
            sock.sendall(request_head("POST", "/api/ask", len(self.BODY), {"Content-Type": "application/json"}))
            self.slow.append(sock)
        self.sent = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._trickle, args=(interval,), daemon=True)
        self.thread.start()

    def _trickle(self, interval: float) -> None:
        while not self.stopped.wait(interval) and self.sent < len(self.BODY):
            for sock in self.slow:
                sock.sendall(self.BODY[self.sent:self.sent + 1])
            self.sent += 1

    def stop_sending(self) -> None:
        self.stopped.set()
        self.thread.join()

    def close(self) -> None:
        self.stop_sending()
        for sock in self.idle + self.slow:
            sock.close()


def probe_healthz(port: int, seconds: float, tls_ca: Path | None = None) -> list[float]:
    """/healthz on a fresh connection every 0.1 s for `seconds`, as a load balancer does: the latencies."""
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status, _, body = http(port, "GET", "/healthz", timeout=5, tls_ca=tls_ca)
        latencies.append(time.perf_counter() - started)
        assert status == 200 and json.loads(body)["status"] == "ok"
        time.sleep(0.1)
    return latencies


def closed_by_server(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing the connection within `seconds`; None if it stayed open."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data


def paced_questions(port: int, source: str, per_minute: float, seconds: float, threads: int = 4) -> Counter:
    """Questions to /api/ask from one loopback address at a steady rate on keep-alive connections: statuses."""
    interval = threads * 60 / per_minute
    body = ask_body()

    def send(offset: float) -> Counter:
        statuses: Counter = Counter()
        conn = HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
        started = time.monotonic()
        n = 0
        while (due := started + offset + n * interval) < started + seconds:
            time.sleep(max(0.0, due - time.monotonic()))
            conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            if response.status == 429:
                assert response.getheader("Retry-After", "").isdigit(), response.getheaders()
                assert json.loads(payload)["error"]["code"] == "rate_limited"
            statuses[response.status] += 1
            n += 1
        conn.close()
        return statuses

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(send, [i * interval / threads for i in range(threads)]), Counter())


def read_response(sock: socket.socket) -> bytes:
    """One whole response, by its Content-Length: nginx lingers on a connection whose body it refused."""
    data = b""
    while True:
        head, separator, body = data.partition(b"\r\n\r\n")
        if separator and len(body) >= int(re.search(rb"(?i)content-length: *(\d+)", head).group(1)):
            return data
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk


def raw_error_code(port: int, request_bytes: bytes, status: int, tls_ca: Path | None = None) -> str:
    """Send bytes as they are; the error code of the JSON answer, once its status and type are checked."""
    with connect(port, tls_ca=tls_ca) as sock:
        sock.sendall(request_bytes)
        reply = read_response(sock)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), head
    assert b"Content-Type: application/json" in head
    return json.loads(body)["error"]["code"]
