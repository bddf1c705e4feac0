from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from companies.forms import company_choice_for
from companies.models import Contact
from courses.models import Competency, CompetencyLevel
from school.models import Role, User

from .models import Absence, Placement, PlacementOffer, ScheduleSlot, Visit


class CompetencyChoices(forms.ModelMultipleChoiceField):
    """Competencies of several programmes share codes (C1.1…): each says whose it is."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Competency.objects.select_related("block__programme").order_by(
                "block__programme__code", "block__code", "code"
            ),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} — {obj.title} ({obj.block.programme.code})"


class OfferForm(forms.ModelForm):
    competencies = CompetencyChoices(label=_("Compétences visées"))

    class Meta:
        model = PlacementOffer
        fields = [
            "company",
            "title",
            "activities",
            "competencies",
            "address",
            "postal_code",
            "city",
            "start_date",
            "end_date",
            "places",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        company_choice_for(self, user)


class PlacementForm(forms.ModelForm):
    competencies = CompetencyChoices(label=_("Compétences à acquérir (annexe pédagogique)"))

    class Meta:
        model = Placement
        fields = [
            "tutor",
            "signatory",
            "referent",
            "start_date",
            "end_date",
            "address",
            "activities",
            "competencies",
            "supervision",
            "meals",
            "transport",
            "lodging",
            "gratification_hourly",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each choice prints « name (company) »: the company comes with the contact.
        contacts = Contact.objects.filter(company=self.instance.company_id).select_related(
            "company"
        )
        for name, queryset in [
            ("tutor", contacts.tutors()),
            ("signatory", contacts.signatories()),
            ("referent", User.objects.filter(role=Role.TRAINER, is_active=True)),
        ]:
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
            field.queryset = queryset


class SlotForm(forms.ModelForm):
    class Meta:
        model = ScheduleSlot
        fields = ["weekday", "start_time", "end_time"]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


SlotFormSet = forms.formset_factory(SlotForm, extra=2, can_delete=True, max_num=21)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 2}))


class ApplyForm(forms.Form):
    message = forms.CharField(
        label=_("Votre message à l'entreprise"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ScanForm(forms.Form):
    signature = forms.IntegerField(widget=forms.HiddenInput)
    scan = forms.FileField(label=_("Copie signée numérisée (PDF, PNG ou JPEG)"))


class EvaluationForm(forms.Form):
    """The tutor's grid: one choice of level per competency of the annexe pédagogique."""

    tutor_name = forms.CharField(label=_("Votre nom"), max_length=255)
    absence_days = forms.IntegerField(
        label=_("Jours d'absence pendant le stage"), min_value=0, max_value=200, initial=0
    )
    attendance = forms.CharField(
        label=_("Assiduité et ponctualité"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    comments = forms.CharField(
        label=_("Appréciation générale"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, competencies: list[Competency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.competencies = competencies
        for competency in competencies:
            self.fields[f"level_{competency.pk}"] = forms.ChoiceField(
                label=f"{competency.code} — {competency.title}",
                choices=CompetencyLevel.choices,
                widget=forms.RadioSelect,
            )

    def levels(self) -> dict[int, str]:
        return {c.pk: self.cleaned_data[f"level_{c.pk}"] for c in self.competencies}

    def level_fields(self) -> list[forms.BoundField]:
        return [self[f"level_{c.pk}"] for c in self.competencies]


class VisitForm(forms.ModelForm):
    class Meta:
        model = Visit
        fields = ["kind", "date", "notes"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["date", "hours", "justified", "reason"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
