"""Sections of the home page that higher apps contribute.

``school`` may not import the apps built on it (DESIGN.md, "Layout"), yet its home
page shows their data: each app registers a builder in its ``AppConfig.ready()``,
as models are registered with ``admin.site``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .http import AuthenticatedRequest


@dataclass(frozen=True)
class Section:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


SectionBuilder = Callable[[AuthenticatedRequest], Section | None]

_builders: list[SectionBuilder] = []


def register_section(builder: SectionBuilder) -> SectionBuilder:
    if builder not in _builders:
        _builders.append(builder)
    return builder


def sections_for(request: AuthenticatedRequest) -> list[Section]:
    return [section for builder in _builders if (section := builder(request)) is not None]
