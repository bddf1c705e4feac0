"""Every back-office page of the workshop and placement paths opens on real rows: the
demo's orders in every status and placements from draft to completed."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from school.models import User
from tests.clients import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_demo")]

WITH_ROWS = ("courses", "internships")


def test_the_change_page_of_every_workshop_and_placement_row_opens() -> None:
    client = Client()
    client.force_login(User.objects.get(email="direction@metaltech.test"))
    opened = 0
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label not in WITH_ROWS:
            continue
        for instance in model._default_manager.all()[:5]:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[instance.pk])
            assert client.get(url).status_code == 200, url
            opened += 1
    assert opened > 50
