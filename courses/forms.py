"""Forms of the workshop pages: placing an order, deciding on it, planning it, logging
time, entering an inspection. Each page hands their data to ``courses.orders``."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.forms import company_choice_for
from school.models import Learner, Role, User

from .models import Competency, Machine, Operation, Session, WorkshopOrder

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OrderForm(forms.ModelForm):
    class Meta:
        model = WorkshopOrder
        fields = [
            "company",
            "reference",
            "description",
            "drawing",
            "material",
            "quantity",
            "tolerances",
            "requested_date",
            "target_price",
        ]
        widgets = {"requested_date": DATE, "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        company_choice_for(self, user)
        self.fields["drawing"].help_text = _("PDF, DXF, STEP, PNG ou JPEG.")


class AcceptForm(forms.Form):
    price = forms.DecimalField(label=_("Prix convenu (€ HT)"), min_value=Decimal("0"))
    planned_start = forms.DateField(label=_("Début prévu"), widget=DATE)
    planned_end = forms.DateField(label=_("Fin prévue"), widget=DATE)
    supervisor = forms.ModelChoiceField(
        label=_("Formateur responsable"),
        queryset=User.objects.filter(role=Role.TRAINER, is_active=True),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 2}))


class PlanForm(forms.Form):
    sessions = forms.ModelMultipleChoiceField(
        label=_("Séances d'atelier"),
        queryset=Session.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    learners = forms.ModelMultipleChoiceField(
        label=_("Apprenants"), queryset=Learner.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    competencies = forms.ModelMultipleChoiceField(
        label=_("Compétences mobilisées"),
        queryset=Competency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, order: WorkshopOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        first = order.planned_start or timezone.localdate()
        last = order.planned_end or first + datetime.timedelta(weeks=8)
        sessions = (
            Session.objects.active()
            .filter(course__kind="workshop", start__date__gte=first, start__date__lte=last)
            .select_related("course", "cohort")
            .order_by("start")
        )
        cast_field(self.fields["sessions"]).queryset = sessions
        cast_field(self.fields["learners"]).queryset = (
            Learner.objects.filter(
                enrolments__cohort__sessions__in=sessions, enrolments__status="active"
            )
            .distinct()
            .order_by("last_name", "first_name")
        )
        cast_field(self.fields["competencies"]).queryset = Competency.objects.select_related(
            "block"
        ).order_by("block__code", "code")


def cast_field(field: forms.Field) -> forms.ModelMultipleChoiceField:
    assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101
    return field


class TimeLogForm(forms.Form):
    session = forms.ModelChoiceField(label=_("Séance"), queryset=Session.objects.none())
    learner = forms.ModelChoiceField(label=_("Apprenant"), queryset=Learner.objects.none())
    hours = forms.DecimalField(
        label=_("Heures"), min_value=Decimal("0.25"), max_digits=4, decimal_places=2
    )
    operation = forms.ChoiceField(label=_("Opération"), choices=Operation.choices)
    machine = forms.ModelChoiceField(
        label=_("Machine"), queryset=Machine.objects.filter(is_active=True), required=False
    )
    parts_made = forms.IntegerField(label=_("Pièces réalisées"), min_value=0, initial=0)
    parts_scrapped = forms.IntegerField(label=_("Pièces rebutées"), min_value=0, initial=0)

    def __init__(self, *args: Any, order: WorkshopOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        session = self.fields["session"]
        learner = self.fields["learner"]
        assert isinstance(session, forms.ModelChoiceField)  # noqa: S101
        assert isinstance(learner, forms.ModelChoiceField)  # noqa: S101
        session.queryset = order.sessions.select_related("course").order_by("start")
        learner.queryset = order.learners.order_by("last_name", "first_name")


class InspectionForm(forms.Form):
    """One characteristic per line: name | nominal | lower deviation | upper deviation |
    the values measured on parts 1, 2, … separated by spaces."""

    lines = forms.CharField(
        label=_("Caractéristiques et mesures"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Une ligne par cote : nom | nominal | écart inférieur | écart supérieur | "
            "valeurs mesurées séparées par des espaces. Exemple : "
            "Alésage Ø20 H7 | 20 | 0 | 0,021 | 20,010 20,015 20,004"
        ),
    )
    notes = forms.CharField(
        label=_("Observations"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_lines(self) -> list[dict[str, Any]]:
        characteristics = []
        for number, line in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            try:
                if len(parts) != 5:
                    raise ValueError
                name, nominal, lower, upper, values = parts
                characteristics.append(
                    {
                        "name": name,
                        "nominal": _decimal(nominal),
                        "lower_tolerance": _decimal(lower),
                        "upper_tolerance": _decimal(upper),
                        "values": [_decimal(value) for value in values.split()],
                    }
                )
            except (ValueError, InvalidOperation) as error:
                raise forms.ValidationError(
                    _("Ligne %(number)s illisible : « %(line)s ».")
                    % {"number": number, "line": line}
                ) from error
        return characteristics


_MEASURE = forms.DecimalField(max_digits=10, decimal_places=4)


def _decimal(text: str) -> Decimal:
    """A dimension as typed in the workshop (« 20,015 », « +0,021 »), within what the
    register of measures stores (10 digits, 4 after the point)."""
    try:
        return Decimal(_MEASURE.clean(text.replace(",", ".").replace("+", "")))
    except forms.ValidationError as error:
        raise ValueError(text) from error
