#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "school.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    # Django would hide an unsafe-configuration refusal behind a later, vaguer error.
    try:
        settings.INSTALLED_APPS  # noqa: B018 — loading the settings is the point
    except ImproperlyConfigured as error:
        sys.exit(f"Configuration refused: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
