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


# The learner's and the cohort's pages take sections the same way: a builder gets the
# request and the object the page is about (already scoped to the user).
ObjectSectionBuilder = Callable[[AuthenticatedRequest, Any], Section | None]

_learner_builders: Registry[ObjectSectionBuilder] = Registry()
register_learner_section = _learner_builders.register
_cohort_builders: Registry[ObjectSectionBuilder] = Registry()
register_cohort_section = _cohort_builders.register


def learner_sections_for(request: AuthenticatedRequest, learner: Any) -> list[Section]:
    return [s for builder in _learner_builders if (s := builder(request, learner)) is not None]


def cohort_sections_for(request: AuthenticatedRequest, cohort: Any) -> list[Section]:
    return [s for builder in _cohort_builders if (s := builder(request, cohort)) is not None]
