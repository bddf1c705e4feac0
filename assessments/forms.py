"""The forms of assessment: a situation with its competencies' weights, and the
tutor's CCF grid (a level per competency and/or a mark, or « absent », signed by the
tutor's name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from courses.models import Competency, CompetencyLevel, Course
from school.models import Cohort, Role, User

from .models import CCFUnit, ResultStatus, Situation, SituationCompetency
from .services import Entry


class SituationForm(forms.ModelForm):
    """A situation of one cohort: its courses, units and competencies are its
    programme's; a weight per competency assessed (the service checks they make 100 %)."""

    class Meta:
        model = Situation
        fields = [
            "title",
            "date",
            "kind",
            "course",
            "ccf_unit",
            "in_placement",
            "scale",
            "max_mark",
            "coefficient",
            "jury_date",
            "assessors",
        ]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "jury_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "assessors": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, cohort: Cohort, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.cohort = cohort
        programme = cohort.programme_id
        fields = self.fields
        fields["course"].queryset = Course.objects.filter(programme=programme).order_by("code")  # type: ignore[attr-defined]
        fields["ccf_unit"].queryset = CCFUnit.objects.filter(programme=programme).order_by("code")  # type: ignore[attr-defined]
        fields["assessors"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role=Role.TRAINER, pk__in=Cohort.objects.filter(pk=cohort.pk).values("trainers")
        ).order_by("last_name", "first_name")
        fields["assessors"].help_text = _("Vous-même si vous êtes formateur, et ceux cochés.")
        current = (
            {line.competency_id: line.weight for line in self.instance.weights.all()}
            if self.instance.pk
            else {}
        )
        self.competencies = list(
            Competency.objects.filter(block__programme=programme).order_by("block__code", "code")
        )
        for competency in self.competencies:
            fields[f"weight_{competency.pk}"] = forms.IntegerField(
                label=f"{competency.code} — {competency.title}",
                required=False,
                min_value=0,
                max_value=100,
                initial=current.get(competency.pk),
                widget=forms.NumberInput(attrs={"size": 3}),
            )

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{competency.pk}"] for competency in self.competencies]

    def weights(self) -> dict[int, int]:
        """The competencies given a weight (an empty or nought box is not assessed)."""
        return {
            competency.pk: weight
            for competency in self.competencies
            if (weight := self.cleaned_data.get(f"weight_{competency.pk}"))
        }

    def situation_fields(self) -> dict[str, Any]:
        """What ``situation_save`` sets on the situation (assessors and weights apart)."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "assessors"}


class PlacementGridForm(forms.Form):
    status = forms.ChoiceField(
        label=_("L'apprenant a-t-il été évalué ?"),
        choices=[
            (ResultStatus.ASSESSED, _("Oui, il a été évalué")),
            (ResultStatus.ABSENT, _("Non, il était absent")),
        ],
        initial=ResultStatus.ASSESSED,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Appréciation"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    tutor_name = forms.CharField(label=_("Votre nom"), max_length=255)

    def __init__(
        self, *args: Any, situation: Situation, weights: list[SituationCompetency], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.situation = situation
        self.weights = weights if situation.has_levels else []
        if situation.has_mark:
            # Text: the scale, the decimals and the comma are the service's rules (one place).
            self.fields["mark"] = forms.CharField(
                label=_("Note sur %(max)s") % {"max": f"{situation.max_mark:g}"},
                required=False,
                max_length=12,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 5}),
            )
        for weight in self.weights:
            competency = weight.competency
            # Not required here: « absent » has none, and the service says which is missing.
            self.fields[f"level_{competency.pk}"] = forms.ChoiceField(
                label=f"{competency.code} — {competency.title} ({weight.weight} %)",
                choices=CompetencyLevel.choices,
                widget=forms.RadioSelect,
                required=False,
            )

    def level_fields(self) -> list[forms.BoundField]:
        return [self[f"level_{weight.competency_id}"] for weight in self.weights]

    def entry(self, learner: int) -> Entry:
        data = self.cleaned_data
        assessed = data["status"] == ResultStatus.ASSESSED
        levels = {
            weight.competency_id: data[f"level_{weight.competency_id}"]
            for weight in self.weights
            if assessed and data[f"level_{weight.competency_id}"]
        }
        return Entry(
            learner=learner,
            status=data["status"],
            mark=(data.get("mark") or None) if assessed else None,
            levels=levels,
            comment=data["comment"],
        )
