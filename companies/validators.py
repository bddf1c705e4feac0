from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# La Poste's establishments share one SIREN whose SIRETs fail Luhn: INSEE checks
# them with "sum of the digits is a multiple of 5" instead.
LA_POSTE_SIREN = "356000000"
SIRET_FORMAT = re.compile(r"[0-9]{14}")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_siret(value: str) -> None:
    # ASCII digits only: str.isdigit() also accepts "²" or Arabic-Indic digits.
    if not SIRET_FORMAT.fullmatch(value):
        raise ValidationError(
            _(
                "Le SIRET doit comporter exactement 14 chiffres, sans espace (reçu : « %(value)s »)."
            ),
            code="siret_format",
            params={"value": value},
        )
    if value.startswith(LA_POSTE_SIREN):
        valid = sum(int(c) for c in value) % 5 == 0
    else:
        valid = luhn_valid(value)
    if not valid:
        raise ValidationError(
            _(
                "Le SIRET %(value)s n'est pas valide (clé de contrôle erronée) : vérifiez les chiffres."
            ),
            code="siret_checksum",
            params={"value": value},
        )


def french_vat_number(siren: str) -> str:
    """The intra-community VAT number of a French business: FR, a two-digit key, then
    the SIREN (the key is (12 + 3 × (SIREN mod 97)) mod 97)."""
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
