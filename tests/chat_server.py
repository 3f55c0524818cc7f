"""A tiny scripted OpenAI-compatible server for the chat LLM tests.

``with FakeLLM(steps) as server:`` starts ``http.server`` in a thread on 127.0.0.1 (a free
port) and answers ``POST /v1/chat/completions`` with the next scripted step; every request
body is recorded in ``server.requests``. Steps:

* ``tool_call("segment_size", {"segment": "2"})`` - an assistant message calling a tool;
* ``reply("text")`` - a final assistant message;
* ``{"status": 500}`` / ``{"status": 429}`` - an HTTP error;
* ``{"sleep": 1.0, ...}`` - wait before answering (to pass a client timeout);
* ``{"raw": b"..."}`` - a malformed body.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def tool_call(name: str, arguments: dict, call_id: str = "call_1") -> dict:
    return {"message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}]}}


def reply(text: str) -> dict:
    return {"message": {"role": "assistant", "content": text}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class FakeLLM:
    """Scripted chat-completions endpoint; use as a context manager."""

    def __init__(self, steps: list):
        self.steps = list(steps)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _next(self, body: dict) -> dict:
        with self._lock:
            self.requests.append(body)
            return self.steps.pop(0) if self.steps else {"status": 500}

    def __enter__(self) -> "FakeLLM":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", 0))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {"unparsable": True}
                body["_path"] = self.path
                body["_auth"] = self.headers.get("Authorization")
                step = fake._next(body)
                if step.get("sleep"):
                    time.sleep(step["sleep"])
                if step.get("status"):
                    self._send(step["status"], json.dumps({"error": {"message": "scripted"}}).encode())
                elif "raw" in step:
                    self._send(200, step["raw"])
                else:
                    payload = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                               "choices": [{"index": 0, "finish_reason": "stop", "message": step["message"]}]}
                    self._send(200, json.dumps(payload).encode())

            def _send(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------ inspection
    def messages(self) -> list[dict]:
        """Every message of every recorded request."""
        return [m for r in self.requests for m in r.get("messages", [])]
