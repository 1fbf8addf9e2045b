"""ID numbers and credit codes: normalised, checksum-verified, with clear errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.identity import (
    id_number_check_char,
    mask_id_number,
    normalise_credit_code,
    normalise_id_number,
)
from accounts.models import Organisation, User

pytestmark = pytest.mark.usefixtures("english")

# The specimen number of GB 11643 and a published credit code; both checksum-valid.
ID_NUMBER = "11010519491231002X"
CREDIT_CODE = "91350100M000100Y43"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def refusal(normalise, value) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        normalise(value)
    return caught.value


# --- ID numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        ID_NUMBER,
        "11010519491231002x",  # lower-case x
        full_width("11010519491231002x"),  # typed with a Chinese input method
        " 110105 19491231 002X ",  # spaces around and inside
    ],
)
def test_id_number_is_normalised_to_half_width_and_capital_x(typed):
    assert normalise_id_number(typed) == ID_NUMBER


def test_id_number_with_a_wrong_check_digit_is_refused():
    error = refusal(normalise_id_number, "110105194912310021")
    assert error.code == "id_checksum"
    assert "check digit" in error.messages[0] and "typo" in error.messages[0]


def test_id_number_with_an_impossible_birth_date_is_refused():
    first17 = "11010519490230002"  # 30 February 1949
    error = refusal(normalise_id_number, first17 + id_number_check_char(first17))
    assert error.code == "id_birthdate"
    assert error.messages == ["The date of birth in this ID number does not exist."]


@pytest.mark.parametrize(
    "typed", ["", "11010519491231002", "11010519491231002X1", "1101051949123100AX", "X" * 18]
)
def test_id_number_of_the_wrong_shape_is_refused(typed):
    error = refusal(normalise_id_number, typed)
    assert error.code == "id_format"
    assert "18 characters" in error.messages[0]


def test_id_number_is_masked_for_display():
    assert mask_id_number(ID_NUMBER) == "110105********002X"


# --- credit codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", [CREDIT_CODE, CREDIT_CODE.lower(), full_width(CREDIT_CODE), f" {CREDIT_CODE} "]
)
def test_credit_code_is_normalised(typed):
    assert normalise_credit_code(typed) == CREDIT_CODE


def test_credit_code_with_a_wrong_check_character_is_refused():
    error = refusal(normalise_credit_code, CREDIT_CODE[:17] + "2")
    assert error.code == "uscc_checksum"
    assert "check character" in error.messages[0]


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_credit_code_with_a_letter_outside_the_standard_alphabet_is_refused(letter):
    error = refusal(normalise_credit_code, CREDIT_CODE[:8] + letter + CREDIT_CODE[9:])
    assert error.code == "uscc_format"
    assert "other than I, O, Z, S and V" in error.messages[0]


@pytest.mark.parametrize("typed", [CREDIT_CODE[:17], CREDIT_CODE + "0", "", "91350100-000100Y43"])
def test_credit_code_of_the_wrong_length_or_characters_is_refused(typed):
    error = refusal(normalise_credit_code, typed)
    assert error.code == "uscc_format"
    assert "18 characters" in error.messages[0]


# --- the models use the same rules ---------------------------------------------------------


@pytest.mark.django_db  # full_clean checks uniqueness
def test_organisation_full_clean_normalises_and_refuses_bad_codes():
    org = Organisation(name="某公司", credit_code=CREDIT_CODE.lower(), kind="enterprise")
    org.full_clean()
    assert org.credit_code == CREDIT_CODE

    bad = Organisation(name="某公司", credit_code=CREDIT_CODE[:17] + "2", kind="enterprise")
    with pytest.raises(ValidationError, match="check character"):
        bad.full_clean()


@pytest.mark.django_db
def test_user_full_clean_normalises_and_refuses_bad_id_numbers():
    user = User(username="zhang", password="x", id_number="11010519491231002x")
    user.full_clean()
    assert user.id_number == ID_NUMBER

    bad = User(username="li", password="x", id_number="110105194912310021")
    with pytest.raises(ValidationError, match="check digit"):
        bad.full_clean()
