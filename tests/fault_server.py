"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for fault injection at the HTTP level.

Each request to ``/v1/chat/completions`` takes the next :class:`Act` from the script (the last
one repeats): a normal answer, a status code with headers, a stall, a stream that is cut
mid-body (chunked encoding, socket closed before the last chunk), or a malformed body. The
real ``openai`` client inside llama-index's ``OpenAILike`` talks to it over a real socket.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Act:
    """One scripted response."""

    status: int = 200
    text: str = "A short answer [1]."
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    cut_after_chunks: int | None = None  # streams only: close the socket after N chunks
    raw_body: bytes | None = None  # sent as is (malformed output)


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "fault-server",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
    payload = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fault-server",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()


class FaultServer:
    """Serve ``script`` on a free loopback port (use as a context manager)."""

    def __init__(self, *script: Act) -> None:
        self.script = list(script) or [Act()]
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                body = json.dumps({"data": [{"id": "fault-server"}]}).encode()
                self._send(200, body, {"Content-Type": "application/json"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    index = min(len(server.requests) - 1, len(server.script) - 1)
                    act = server.script[index]
                if act.delay_s:
                    time.sleep(act.delay_s)
                if self.path.startswith("/api/chat"):  # Ollama's protocol
                    self._ollama(act, bool(body.get("stream")))
                elif act.raw_body is not None:
                    self._send(act.status, act.raw_body, {"Content-Type": "application/json"})
                elif act.status != 200:
                    error = {"error": {"message": f"scripted {act.status}", "type": "test"}}
                    headers = {"Content-Type": "application/json", **act.headers}
                    self._send(act.status, json.dumps(error).encode(), headers)
                elif body.get("stream"):
                    self._stream(act)
                else:
                    payload = json.dumps(_completion(act.text)).encode()
                    self._send(200, payload, {"Content-Type": "application/json"})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _ollama(self, act: Act, stream: bool) -> None:
                if act.status != 200:
                    error = json.dumps({"error": f"scripted {act.status}"}).encode()
                    self._send(act.status, error, {"Content-Type": "application/json"})
                    return

                def line(content: str, done: bool) -> bytes:
                    message = {"role": "assistant", "content": content}
                    return (
                        json.dumps(
                            {"model": "fault-server", "message": message, "done": done}
                        ).encode()
                        + b"\n"
                    )

                if not stream:
                    self._send(200, line(act.text, True), {"Content-Type": "application/json"})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = [line(w + " ", False) for w in act.text.split(" ")] + [line("", True)]
                for n, piece in enumerate(pieces):
                    if act.cut_after_chunks is not None and n >= act.cut_after_chunks:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def _stream(self, act: Act) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = [_chunk({"role": "assistant", "content": ""})]
                pieces += [_chunk({"content": w + " "}) for w in act.text.split(" ")]
                pieces += [_chunk({}, "stop"), b"data: [DONE]\n\n"]
                for n, piece in enumerate(pieces):
                    if act.cut_after_chunks is not None and n >= act.cut_after_chunks:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)  # cut mid-body
                        self.close_connection = True
                        return
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    @property
    def root(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def streamlit_command(script: Path, port: int) -> list[str]:
    """``streamlit run script`` headless on 127.0.0.1:``port``, as the tests and benchmarks
    start the app (run with ``cwd`` at the project root to pick up ``.streamlit/``)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@contextmanager
def serving(
    name: str, command: list[str], health_url: str, log: Path, *, timeout_s: float, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (a server on loopback) until ``health_url`` answers 200, yield its
    process, stop it after. Fails with the end of its log if it exits or does not come up."""
    import pytest

    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        started = time.monotonic()
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(health_url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - started > timeout_s:
                pytest.fail(f"{name} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
