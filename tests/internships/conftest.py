from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine


@pytest.fixture(autouse=True)
def before_the_spring_placements() -> Iterator[None]:
    """The factories' placements are in March 2027: today is before them."""
    with time_machine.travel(datetime.datetime(2026, 11, 30, 9, 0), tick=True):
        yield
