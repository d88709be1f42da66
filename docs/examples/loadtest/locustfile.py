"""Load test for the chat API: users hold conversations over SSE, with think time.

    locust -f docs/examples/loadtest/locustfile.py --host http://127.0.0.1:8000 \
        --headless -u 200 -r 20 -t 2m --csv /tmp/chat

Besides the request itself, every turn reports two measurements of its own:
``time to first token`` (request sent to first ``token`` event) and ``full reply``
(request sent to ``done``). A turn without ``done`` counts as a failure, even with a 200.
"""

from __future__ import annotations

import json
import random
import time

from locust import HttpUser, between, task

QUESTIONS = [
    "How do I reset my password?",
    "Summarise our refund policy for annual plans in three sentences.",
    "Which regions does the service store data in, and can I choose one?",
    "Write a short, polite reply declining a meeting invitation for Friday.",
]


# [start:user]
class ChatUser(HttpUser):
    # A person reads the answer and types the next question: 5 to 15 s between turns.
    wait_time = between(5, 15)
    turns_per_conversation = 4

    def on_start(self) -> None:
        self.conversation_id: str | None = None
        self.turns = 0

    @task
    def chat_turn(self) -> None:
        body: dict[str, str] = {"message": random.choice(QUESTIONS)}
        if self.conversation_id and self.turns < self.turns_per_conversation:
            body["conversation_id"] = self.conversation_id
        else:
            self.conversation_id, self.turns = None, 0
        started = time.perf_counter()
        first_token: float | None = None
        outcome = None
        with self.client.post(
            "/v1/chat/stream", json=body, stream=True, catch_response=True, name="chat turn"
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            event = ""
            for raw in response.iter_lines(decode_unicode=True):
                if raw.startswith("event:"):
                    event = raw.removeprefix("event:").strip()
                elif raw.startswith("data:") and event == "meta":
                    self.conversation_id = json.loads(raw.removeprefix("data:"))["conversation_id"]
                elif raw.startswith("data:") and event == "token" and first_token is None:
                    first_token = time.perf_counter()
                elif raw.startswith("data:") and event in ("done", "error"):
                    outcome = event
            if outcome != "done":
                response.failure(f"stream ended with {outcome or 'nothing'}")
                return
            response.success()
        finished = time.perf_counter()
        self.turns += 1
        self._report("time to first token", (first_token or finished) - started)
        self._report("full reply", finished - started)

    def _report(self, name: str, seconds: float) -> None:
        self.environment.events.request.fire(
            request_type="SSE",
            name=name,
            response_time=seconds * 1000,
            response_length=0,
            exception=None,
            context={},
        )


# [end:user]
