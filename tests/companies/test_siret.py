from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from companies.validators import validate_siret
from tests.factories import CompanyFactory, make_siret


def test_a_real_format_siret_with_a_good_key_is_accepted() -> None:
    validate_siret("73282932000074")  # a published, valid SIRET


@pytest.mark.parametrize(
    "value", ["7328293200007", "732829320000745", "7328 2932000074", "ABCDEFGHIJKLMN"]
)
def test_a_siret_that_is_not_14_digits_is_refused_in_french(value: str) -> None:
    with pytest.raises(ValidationError, match="exactement 14 chiffres"):
        validate_siret(value)


def test_a_siret_with_a_wrong_key_is_refused_in_french() -> None:
    with pytest.raises(ValidationError, match="clé de contrôle erronée"):
        validate_siret("73282932000075")


def test_la_poste_establishments_follow_their_own_rule() -> None:
    validate_siret("35600000000051")  # digits add up to a multiple of 5
    with pytest.raises(ValidationError):
        validate_siret("35600000000052")


@given(st.integers(min_value=0, max_value=10**13 - 1))
def test_any_thirteen_digits_completed_by_their_key_are_accepted(stem: int) -> None:
    siret = make_siret(stem)
    if siret.startswith("356000000"):
        return
    validate_siret(siret)


@given(st.integers(min_value=0, max_value=10**13 - 1), st.integers(0, 13), st.integers(1, 9))
def test_changing_one_digit_breaks_the_key(stem: int, position: int, shift: int) -> None:
    siret = make_siret(stem)
    if siret.startswith("356000000"):
        return
    digit = (int(siret[position]) + shift) % 10
    altered = siret[:position] + str(digit) + siret[position + 1 :]
    with pytest.raises(ValidationError):
        validate_siret(altered)


@pytest.mark.django_db
def test_a_company_with_a_bad_siret_is_refused_by_the_model() -> None:
    company = CompanyFactory.build(siret="12345678901234")
    with pytest.raises(ValidationError) as error:
        company.full_clean()
    assert "siret" in error.value.message_dict


@pytest.mark.parametrize(
    "value", ["1234567890123²", "٧٣٢٨٢٩٣٢٠٠٠٠٧٤"], ids=["superscript", "arabic-indic"]
)
def test_digits_of_other_scripts_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="exactement 14 chiffres"):
        validate_siret(value)


@pytest.mark.django_db
def test_the_database_refuses_a_malformed_siret_written_without_validation() -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        CompanyFactory(siret="12345")
