"""The app (or another ASGI app) served by uvicorn in a subprocess, as in production: refuses a
port that is taken, waits until /healthz answers, keeps its output in a log, stops cleanly."""

import contextlib
import http.client
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from bench.lib import ROOT
from bench.lib.ports import HOST, port_is_free


def bihuan_command(*args: str) -> list[str]:
    """The `bihuan` command of this interpreter's environment (the venv's), with `args`."""
    script = Path(sys.executable).with_name("bihuan")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def run_bihuan(*args: str, env: Mapping[str, str], cwd: Path = ROOT) -> str:
    """Run a `bihuan` command to completion (migrate, demo, ...); its output, or the error."""
    done = subprocess.run(bihuan_command(*args), cwd=cwd, env=dict(env), capture_output=True,
                          text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bihuan {' '.join(args)} failed ({done.returncode}):\n"
                           f"{(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def serve_argv(port: int, workers: int = 1, app_path: str = "app.main:app") -> list[str]:
    """`bihuan serve` on the port; for another app, the same uvicorn.run call (app/cli.py)."""
    if app_path == "app.main:app":
        return bihuan_command("serve", "--host", HOST, "--port", str(port),
                              "--workers", str(workers))
    code = (f"import uvicorn; uvicorn.run({app_path!r}, host={HOST!r}, port={port}, "
            f"workers={workers}, proxy_headers=True)")
    return [sys.executable, "-c", code]


class Server:
    """A server started as a subprocess in its own process group, so that stopping it stops
    its workers too; its output goes to `log_path` (appended) or to a temporary file."""

    def __init__(self, label: str, argv: list[str], env: Mapping[str, str], port: int,
                 log_path: Path | None = None, cwd: Path = ROOT) -> None:
        self.label, self.argv, self.env, self.port, self.cwd = label, argv, dict(env), port, cwd
        self.own_log = log_path is None
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix=f"bihuan-bench-{label}-", suffix=".log")
            os.close(handle)
            log_path = Path(name)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's (uvicorn master's) process id."""
        assert self.proc is not None, f"{self.label} server not started"
        return self.proc.pid

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60) -> None:
        """Start it and wait until GET /healthz answers 200; refuse a port already taken."""
        if not port_is_free(self.port):
            raise RuntimeError(f"{HOST}:{self.port} is taken by another program: pick another "
                               "port (--port)")
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} server exited ({self.proc.returncode}); "
                                   f"log:\n{self.log_tail()}")
            if self._healthy() and self.proc.poll() is None:  # ours answered, not another's
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.label} server not healthy after {timeout}s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        """GET /healthz answers 200."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)  # no proxy, unlike urllib
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's output, for an error message."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM (uvicorn's master stops its workers), then SIGKILL to the group if stuck."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this server's start made
            self.proc.wait(timeout=10)

    def close(self) -> None:
        """Stop it and remove its temporary log (a log the caller named is kept)."""
        self.stop()
        if self.own_log:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# The benches log in with a password alone: the second factor is not switched on for their
# users (a county before it enrols its staff). Every request still passes the account gates
# (services/accounts/auth.check_gates), so what is measured is what production runs.
WITHOUT_SECOND_FACTOR = {"OTP_REQUIRED_ROLES": ""}


def production_settings(database_url: str) -> dict[str, str]:
    """The app's settings in production mode on `database_url`, for this process (in-process
    captures) and its servers alike: one SECRET_KEY, so a token from either works on both."""
    return {"BIHUAN_ENV": "production", "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(48), **WITHOUT_SECOND_FACTOR}


def exit_on_signals() -> None:
    """Make SIGTERM (and SIGINT, even in a background job) raise SystemExit, so that the
    bench's finally blocks still stop its servers and drop its databases."""

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, leave)
