from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import DEFAULT_VAT, VAT_CHOICES, LineKind, PaymentMethod, Unit

QUOTE_ROWS = 6


class QuoteForm(forms.Form):
    """A quote's header and up to six lines, one row each (empty rows are ignored); the
    service checks the lines and names each wrong one."""

    valid_until = forms.DateField(
        label=_("Valable jusqu'au"), widget=forms.DateInput(attrs={"type": "date"})
    )
    lead_time_days = forms.IntegerField(label=_("Délai de livraison (jours)"), min_value=1)
    delivery_address = forms.CharField(
        label=_("Adresse de livraison (si elle diffère)"), required=False, max_length=255
    )
    notes = forms.CharField(
        label=_("Conditions particulières"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["valid_until"].initial = timezone.localdate() + datetime.timedelta(days=30)
        self.fields["lead_time_days"].initial = 21
        for n in range(QUOTE_ROWS):
            self.fields[f"kind_{n}"] = forms.ChoiceField(
                label=_("Nature"), choices=LineKind.choices, required=False
            )
            self.fields[f"description_{n}"] = forms.CharField(
                label=_("Désignation"), required=False, max_length=200
            )
            self.fields[f"quantity_{n}"] = forms.CharField(label=_("Quantité"), required=False)
            self.fields[f"unit_{n}"] = forms.ChoiceField(
                label=_("Unité"), choices=Unit.choices, required=False
            )
            self.fields[f"unit_price_{n}"] = forms.CharField(
                label=_("Prix unitaire HT (€)"), required=False
            )
            self.fields[f"vat_rate_{n}"] = forms.ChoiceField(
                label=_("TVA"), choices=VAT_CHOICES, required=False, initial=DEFAULT_VAT
            )

    def rows(self) -> list[list[forms.BoundField]]:
        names = ("kind", "description", "quantity", "unit", "unit_price", "vat_rate")
        return [[self[f"{name}_{n}"] for name in names] for n in range(QUOTE_ROWS)]

    def lines(self) -> list[dict[str, str]]:
        data = self.cleaned_data
        return [
            {
                "kind": data[f"kind_{n}"],
                "description": data[f"description_{n}"],
                "quantity": data[f"quantity_{n}"].replace(",", "."),
                "unit": data[f"unit_{n}"] or Unit.PIECE,
                "unit_price": data[f"unit_price_{n}"].replace(",", "."),
                "vat_rate": data[f"vat_rate_{n}"] or str(DEFAULT_VAT),
            }
            for n in range(QUOTE_ROWS)
            if data.get(f"description_{n}")
        ]


class RefuseForm(forms.Form):
    reason = forms.CharField(label=_("Motif du refus"), widget=forms.Textarea(attrs={"rows": 2}))


class DeliveryForm(forms.Form):
    quantity = forms.IntegerField(label=_("Pièces livrées"), min_value=1)


class ReceiptForm(forms.Form):
    name = forms.CharField(label=_("Nom du signataire"), max_length=200)
    remarks = forms.CharField(
        label=_("Réserves"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CreditForm(forms.Form):
    reason = forms.CharField(label=_("Motif de l'avoir (toute la facture)"), max_length=500)


class PaymentForm(forms.Form):
    paid_on = forms.DateField(
        label=_("Reçu le"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    amount = forms.DecimalField(
        label=_("Montant (€)"), max_digits=12, decimal_places=2, localize=True
    )
    method = forms.ChoiceField(label=_("Moyen"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Référence"), required=False, max_length=100)
