"""What a request costs in queries: an API list's, and a page's once signed in.

The tests that compare one row with many count with these, so that both sides of each
comparison are counted the same way. (Registered for pytest's assertion rewriting in
tests/conftest.py: a failed comparison shows both counts.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clients import signed_in


def list_queries(client: Any, url: str) -> tuple[int, int]:
    """The queries one GET of the API list at ``url`` sends, and the rows it counts."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.json()["count"]


def assert_a_list_costs_the_same_for_one_row_and_for_many(
    client: Any, url: str, add_row: Callable[[], object], *, more: int
) -> None:
    """One row added and the list counted, ``more`` rows added and counted again: the
    list shows the new rows for the same number of queries."""
    add_row()
    one, rows = list_queries(client, url)
    for _ in range(more):
        add_row()
    many, more_rows = list_queries(client, url)
    assert more_rows > rows >= 1
    assert many == one


def page_queries(user: Any, url: str) -> int:
    """The queries the page at ``url`` costs ``user`` once their session is warm: the
    first request after signing in is not counted, it does the session's work once."""
    client = signed_in(user)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)
