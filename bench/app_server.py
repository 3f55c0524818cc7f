"""Launch ``app.py`` in a subprocess on 127.0.0.1 and a free port; used by bench and the app tests.

Usage::

    with running_app() as url:
        ...  # the app answers on url; it is terminated on exit, whatever happens
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(url: str, proc: subprocess.Popen, timeout: float = READY_TIMEOUT) -> float:
    """Poll ``url`` until it answers HTTP 200; return the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the app did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def running_app(log_path: Path | None = None) -> Iterator[str]:
    """Start the app; yield its URL once it serves the page; always terminate it."""
    port = free_port()
    scratch = tempfile.mkdtemp(prefix="segment-explainer-app-")  # the app's temp dir, removed on exit
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", "TMPDIR": scratch}
    log = open(log_path, "w") if log_path else tempfile.TemporaryFile("w+")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=str(ROOT), env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_ready(url, proc)
        yield url
    except BaseException:
        log.flush()
        if not log_path:
            log.seek(0)
            sys.stderr.write(log.read()[-4000:])
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        shutil.rmtree(scratch, ignore_errors=True)

