"""`fairserver serve --workers N`: N processes sharing one port (SO_REUSEPORT).

The supervisor migrates the database once, starts N `fairserver serve --worker`
processes on the same host:port (the kernel spreads new connections over them),
forwards SIGTERM/SIGINT to them and exits when they have exited. A worker that dies on
its own (a crash, the OOM killer, kill -9) is replaced by a new one on the same port,
while the others keep serving: its clients reconnect, land on a live worker and replay
from their last event id. A worker that keeps dying (MAX_RESTARTS within
RESTART_WINDOW seconds) is a bug, not bad luck: then the supervisor stops the group and
exits non-zero, for the service manager to report. Workers share state through Redis
(socket.io emits, presence, queues, rate limits) and PostgreSQL; the socket transport is
websocket-only, so no sticky sessions are needed. The workers' Prometheus figures meet in
one directory (PROMETHEUS_MULTIPROC_DIR), so any worker's /metrics covers them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from types import FrameType

from aiohttp import web

from fairserver.ops import metrics
from fairserver.settings import Settings
from fairserver.store.db import Database

log = logging.getLogger(__name__)
MAX_WORKERS = 64
# aiohttp's graceful shutdown (20 s) plus the socket layer's goodbyes.
STOP_GRACE_SECONDS = 30.0
POLL_SECONDS = 0.2
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


def scale_out_problem(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run `workers` processes, or None when they can."""
    if not 1 <= workers <= MAX_WORKERS:
        return f"--workers must be between 1 and {MAX_WORKERS}, got {workers}"
    if workers == 1:
        return None
    if not settings.redis_url:
        return (
            "--workers 2 or more needs FAIRSERVER_REDIS_URL: the workers share socket.io "
            "rooms, presence, queues and rate limits through Redis"
        )
    if settings.is_sqlite:
        return (
            "--workers 2 or more needs PostgreSQL (FAIRSERVER_DATABASE_URL="
            "postgresql+asyncpg://...): SQLite is for one process"
        )
    if settings.port == 0:
        return "--workers 2 or more needs a fixed port (FAIRSERVER_PORT or --port)"
    return None


def worker_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "fairserver.cli",
        "serve",
        "--worker",
        "--host",
        settings.host,
        "--port",
        str(settings.port),
    ]


def _migrate_once(settings: Settings) -> None:
    """Before any worker starts: N workers migrating at once would race on the DDL."""

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await db.migrate()
        finally:
            await db.dispose()

    asyncio.run(run())


SUPERVISOR_ENV = "FAIRSERVER_SUPERVISOR_PID"


class Supervisor:
    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.count = workers
        self.processes: list[subprocess.Popen[bytes]] = []
        self.stopping = False
        self.crashed = False
        self.restarts: deque[float] = deque()
        self.metrics_dir, self._own_metrics_dir = _metrics_dir()

    def start(self) -> None:
        for _ in range(self.count):
            self.processes.append(self._spawn())

    def _spawn(self) -> subprocess.Popen[bytes]:
        # A session of its own: a terminal's Ctrl-C reaches only the supervisor,
        # which forwards it once, instead of every worker getting it twice.
        # argv is our own interpreter and validated settings; no shell.
        process = subprocess.Popen(  # noqa: S603
            worker_command(self.settings),
            start_new_session=True,
            # The worker compares its parent with this, so a supervisor killed
            # while the worker was still starting is noticed too.
            env={
                **os.environ,
                SUPERVISOR_ENV: str(os.getpid()),
                metrics.MULTIPROC_ENV: str(self.metrics_dir),
            },
        )
        log.info("worker %d started", process.pid)
        return process

    def _replace(self, dead: subprocess.Popen[bytes]) -> None:
        """A worker left unasked: a new one in its place, unless they keep dying."""
        metrics.worker_exited(dead.pid, self.metrics_dir)
        now = time.monotonic()
        self.restarts.append(now)
        while self.restarts and now - self.restarts[0] > RESTART_WINDOW:
            self.restarts.popleft()
        if len(self.restarts) > MAX_RESTARTS:
            log.error(
                "worker %d exited (%s), %d restarts in %.0fs: stopping the group",
                dead.pid,
                dead.returncode,
                len(self.restarts) - 1,
                RESTART_WINDOW,
            )
            self.crashed = True
            self.stop()
            return
        log.error("worker %d exited (%s); starting another", dead.pid, dead.returncode)
        self.processes[self.processes.index(dead)] = self._spawn()

    def stop(self, signum: int = signal.SIGTERM) -> None:
        self.stopping = True
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping %d workers", signum, len(self.processes))
        self.stop(signal.SIGTERM)

    def wait(self) -> int:
        """Until every worker has exited; returns the supervisor's exit status."""
        deadline: float | None = None
        killed = False
        while True:
            alive = [process.poll() is None for process in self.processes]
            if not self.stopping:
                for dead in [p for p, up in zip(self.processes, alive, strict=True) if not up]:
                    if not self.stopping:
                        self._replace(dead)
            elif not any(alive):
                break
            if self.stopping and deadline is None:
                deadline = time.monotonic() + STOP_GRACE_SECONDS
            if deadline is not None and not killed and time.monotonic() > deadline:
                self._kill_stragglers()
                killed = True
            time.sleep(POLL_SECONDS)
        self._clean_metrics_dir()
        if self.crashed:
            return 1  # workers kept dying
        clean = (0, -signal.SIGTERM)
        return 0 if all(process.returncode in clean for process in self.processes) else 1

    def _clean_metrics_dir(self) -> None:
        if self._own_metrics_dir:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def _kill_stragglers(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                log.error(
                    "worker %d ignored SIGTERM for %.0fs; killing it",
                    process.pid,
                    STOP_GRACE_SECONDS,
                )
                process.kill()


def _metrics_dir() -> tuple[Path, bool]:
    """The operator's PROMETHEUS_MULTIPROC_DIR, emptied (files of an earlier run would be
    added in), or a private one removed at exit. Returns (path, whether it is ours)."""
    configured = os.environ.get(metrics.MULTIPROC_ENV)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("*.db"):
            old.unlink()
        return path, False
    return Path(tempfile.mkdtemp(prefix="fairserver-metrics-")), True


def supervise(settings: Settings, workers: int) -> int:
    problem = scale_out_problem(settings, workers)
    if problem:
        print(f"configuration error: {problem}", file=sys.stderr)
        return 2
    _migrate_once(settings)
    supervisor = Supervisor(settings, workers)
    signal.signal(signal.SIGTERM, supervisor.on_signal)
    signal.signal(signal.SIGINT, supervisor.on_signal)
    supervisor.start()
    print(
        f"fairserver on http://{settings.host}:{settings.port}/ with {workers} workers",
        flush=True,
    )
    return supervisor.wait()


async def exit_with_supervisor(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for workers: a worker whose supervisor vanished (even by SIGKILL)
    stops gracefully instead of lingering on the port."""
    parent = int(os.environ.get(SUPERVISOR_ENV, os.getppid()))

    async def watch() -> None:
        # Polling: no event fires when a parent dies (prctl's PDEATHSIG is not in stdlib).
        while os.getppid() == parent:  # noqa: ASYNC110
            await asyncio.sleep(1)
        log.error("supervisor %d is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    watcher = asyncio.create_task(watch())
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
