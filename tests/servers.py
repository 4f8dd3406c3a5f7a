"""Real fairserver processes for tests that need to kill, restart or multiply them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill_hard(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill_hard()
        return int(self.process.returncode)


def start_server(
    workdir: Path, env: dict[str, str], command: str = "serve", port: int | None = None
) -> ServerProcess:
    """Starts `fairserver <command>` and waits (bounded) until /healthz answers."""
    port = port or free_port()
    full_env = {
        **os.environ,
        "FAIRSERVER_PORT": str(port),
        "FAIRSERVER_ARGON2_TIME_COST": "1",
        "FAIRSERVER_ARGON2_MEMORY_KIB": "1024",
        **env,
    }
    log_path = workdir / f"server-{port}-{int(time.time() * 1000)}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "fairserver.cli", command],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            pytest.fail(f"fairserver {command} did not start:\n{server.log()}")
        time.sleep(0.2)
