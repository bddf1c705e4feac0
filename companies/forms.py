"""What the forms of the apps above share about companies."""

from __future__ import annotations

from django import forms

from school.models import User

from .models import Company


def company_choice_for(form: forms.BaseForm, user: User) -> None:
    """Limit ``form``'s ``company`` field to the companies ``user`` sees; a partner of a
    single company orders and offers for it, so it comes chosen already."""
    field = form.fields["company"]
    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
    field.queryset = Company.objects.visible_to(user)
    if not form.is_bound and (sole := Company.objects.visible_to(user).sole()):
        form.initial.setdefault("company", sole.pk)
