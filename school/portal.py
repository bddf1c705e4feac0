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
from .registry import Registry


@dataclass(frozen=True)
class Section:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


SectionBuilder = Callable[[AuthenticatedRequest], Section | None]

_builders: Registry[SectionBuilder] = Registry()
register_section = _builders.register


def sections_for(request: AuthenticatedRequest) -> list[Section]:
    return [section for builder in _builders if (section := builder(request)) is not None]
