"""The people of a school network at work, for Locust (driven by benchmarks/load.py).

Credentials come from the JSON file named by ``LOAD_PEOPLE``, prepared against the large
data set: browser sessions (with their second factor for trainers and staff), API
tokens, calendar tokens, and the past sessions each trainer calls the roll of.

``LOAD_SATURATE=1`` drops the pauses: the saturation runs, one request kind at a time
(chosen with Locust's ``--tags`` and the user class on its command line), that measure
an endpoint's throughput against the framework's floor (``Floor``).
"""

from __future__ import annotations

import json
import os
import random
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, tag, task

PEOPLE: dict[str, list[dict[str, Any]]] = json.loads(
    open(os.environ["LOAD_PEOPLE"], encoding="utf-8").read()  # noqa: SIM115
)
# A person reads, then clicks: one to three seconds between two requests.
PAUSE = constant(0) if os.environ.get("LOAD_SATURATE") else between(1, 3)


def _pick(kind: str) -> dict[str, Any]:
    return random.choice(PEOPLE[kind])  # noqa: S311 — a load mix, not a secret


class Person(FastHttpUser):
    """FastHttpUser (geventhttpclient), not HttpUser (requests): Locust runs on the
    server's own two cores. With requests, the « floor » (/healthz/, 0.3 ms of Django
    in-process) topped at 55 req/s: the load generator's limit, not the framework's,
    which flattered every ratio. FastHttpUser doubles it and leaves the cores to the
    server."""

    abstract = True
    wait_time = PAUSE
    headers: dict[str, str] = {}  # each person sets their own in sign_in

    def sign_in(self, person: dict[str, Any]) -> None:
        self.headers = {"Cookie": f"sessionid={person['session']}; csrftoken={person['csrf']}"}


class Learner(Person):
    """Reads their week on the phone, and their calendar app polls the feed."""

    weight = 5

    def on_start(self) -> None:
        self.person = _pick("learners")
        self.sign_in(self.person)

    @tag("schedule")
    @task(2)
    def schedule(self) -> None:
        self.client.get("/emploi-du-temps/", name="schedule", headers=self.headers)

    @tag("feed")
    @task(3)
    def feed(self) -> None:
        self.client.get(self.person["feed"], name="feed")


class Trainer(Person):
    """Opens a session's roll call on the workshop tablet and marks learners."""

    weight = 3

    def on_start(self) -> None:
        self.person = _pick("trainers")
        self.sign_in(self.person)

    @tag("roll_call")
    @task(1)
    def roll_call(self) -> None:
        session = random.choice(self.person["sessions"])  # noqa: S311
        self.client.get(
            f"/seances/{session['id']}/emargement/", name="roll_call", headers=self.headers
        )

    @tag("roll_call_mark")
    @task(2)
    def mark(self) -> None:
        session = random.choice(self.person["sessions"])  # noqa: S311
        learner = random.choice(session["learners"])  # noqa: S311
        self.client.post(
            f"/seances/{session['id']}/emargement/{learner}/",
            data=urlencode({"status": random.choice(["present", "late", "absent"])}),  # noqa: S311
            headers={
                **self.headers,
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.person["csrf"],
                "HX-Request": "true",
            },
            name="roll_call_mark",
        )


class Partner(Person):
    """A company's tutor lists the applications to its offers, through the API."""

    weight = 1

    def on_start(self) -> None:
        self.token = _pick("partners")["token"]

    @tag("applications")
    @task
    def applications(self) -> None:
        self.client.get(
            "/api/v1/applications/",
            headers={"Authorization": f"Token {self.token}"},
            name="applications",
        )


class Staff(Person):
    """The office opens its dashboard."""

    weight = 1

    def on_start(self) -> None:
        self.sign_in(_pick("staff"))

    @tag("dashboard")
    @task
    def dashboard(self) -> None:
        self.client.get("/", name="dashboard", headers=self.headers)


class Floor(Person):
    """The framework's floor: a minimal Django view through the same middleware
    (saturation runs only: name it on Locust's command line)."""

    @tag("floor")
    @task
    def healthz(self) -> None:
        self.client.get("/healthz/", name="floor")
