"""A tiny scripted OpenAI-compatible server for the chat LLM tests.

``with FakeLLM(steps) as server:`` starts ``http.server`` in a thread on 127.0.0.1 (a free
port) and answers ``POST /v1/chat/completions`` with the next scripted step; every request
body is recorded in ``server.requests``. Steps:

* ``tool_call("segment_size", {"segment": "2"})`` - an assistant message calling a tool;
* ``reply("text")`` - a final assistant message;
* ``{"status": 500}`` / ``{"status": 429}`` - an HTTP error;
* ``{"sleep": 1.0, ...}`` - wait before answering (to pass a client timeout);
* ``{"raw": b"..."}`` - a malformed body;
* ``{"drip": 0.3, ...}`` - send the body one byte every 0.3 s (each read is quick, the whole is not);
* ``{"drip_headers": 0.3, ...}`` - the same for the status line and headers;
* ``{"redirect": url, "status": 302}`` - send the client elsewhere (``url`` can be another FakeLLM's).
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
        self.dripping = threading.Event()
        self.stop_dripping = threading.Event()
        self.drip_ended: float | None = None
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

            def do_GET(self) -> None:  # noqa: N802 - a followed redirect arrives as a GET: record it, refuse it
                with fake._lock:
                    fake.requests.append({"_path": self.path, "_auth": self.headers.get("Authorization"),
                                          "_method": "GET", "messages": []})
                self._send(405, b"{}")

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
                if step.get("redirect"):
                    self._send(step.get("status", 302), b"", location=step["redirect"])
                elif step.get("drip") or step.get("drip_headers"):
                    payload = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                               "choices": [{"index": 0, "finish_reason": "stop", "message": step["message"]}]}
                    self._drip(json.dumps(payload).encode(), step.get("drip", 0), step.get("drip_headers", 0))
                elif step.get("status"):
                    self._send(step["status"], json.dumps({"error": {"message": "scripted"}}).encode())
                elif "raw" in step:
                    self._send(200, step["raw"])
                else:
                    payload = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                               "choices": [{"index": 0, "finish_reason": "stop", "message": step["message"]}]}
                    self._send(200, json.dumps(payload).encode())

            def _send(self, status: int, data: bytes, location: str | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if location:
                        self.send_header("Location", location)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def _drip(self, data: bytes, body_pause: float, header_pause: float) -> None:
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}"
                        "\r\nX-Padding: " + "x" * 40 + "\r\n\r\n").encode()
                fake.dripping.set()
                try:
                    for part, pause in ((head, header_pause), (data, body_pause)):
                        for i in range(len(part)):
                            if fake.stop_dripping.is_set():
                                return
                            self.wfile.write(part[i:i + 1])
                            self.wfile.flush()
                            if pause:
                                time.sleep(pause)
                except (BrokenPipeError, ConnectionResetError, OSError):  # the client hung up: as it should
                    pass
                finally:
                    fake.drip_ended = time.monotonic()

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_dripping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------ inspection
    def messages(self) -> list[dict]:
        """Every message of every recorded request."""
        return [m for r in self.requests for m in r.get("messages", [])]
