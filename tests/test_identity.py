"""ID numbers and credit codes: normalised, checksum-verified, with clear errors."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from accounts.identity import (
    id_number_check_char,
    mask_id_number,
    normalise_credit_code,
    normalise_id_number,
    uscc_check_char,
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


# --- properties: whatever is typed, a canonical number or a clear refusal ------------------

# Digits of other scripts that people's keyboards and input methods produce.
SCRIPTS = {
    "full-width": 0xFF10,
    "arabic-indic": 0x0660,
    "eastern-arabic": 0x06F0,
    "devanagari": 0x0966,
    "bengali": 0x09E6,
    "thai": 0x0E50,
    "mathematical": 0x1D7CE,  # bold digits; NFKC makes them ASCII
}
CANONICAL_ID = re.compile(r"[0-9]{17}[0-9X]")


def stdnum_accepts(number: str) -> bool:
    """Checksum and birth date per python-stdnum (its birth-place table aside)."""
    try:
        ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        return False
    return ric.calc_check_digit(number) == number[17]


@st.composite
def valid_id_numbers(draw) -> str:
    birth = draw(st.dates(datetime.date(1900, 1, 1), datetime.date(2025, 12, 31)))
    area = draw(st.sampled_from(["110105", "330127", "440305", "510104", "650102"]))
    first17 = f"{area}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + id_number_check_char(first17)


@st.composite
def id_like_text(draw) -> str:
    """Text near an ID number: digits of any script, x/X, separators, stray characters."""
    alphabet = st.one_of(
        st.sampled_from("0123456789xX -‐–—\u3000\u00a0"),
        st.characters(categories=["Nd", "No"]),
        st.characters(),
    )
    return draw(st.text(alphabet, min_size=15, max_size=24))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), id_like_text(), valid_id_numbers()))
def test_any_text_is_either_a_canonical_id_number_or_refused(typed):
    try:
        number = normalise_id_number(typed)
    except ValidationError as error:
        assert error.code in {"id_format", "id_birthdate", "id_checksum"}
        return
    assert CANONICAL_ID.fullmatch(number) and number.isascii()
    assert stdnum_accepts(number)
    assert normalise_id_number(number) == number  # canonical: nothing raw is kept


@settings(max_examples=200, deadline=None)
@given(
    valid_id_numbers(),
    st.lists(st.sampled_from(sorted(SCRIPTS)), min_size=18, max_size=18),
    st.booleans(),
    st.sampled_from(["", " ", "-", "\u3000"]),
)
def test_a_valid_id_number_in_any_scripts_digits_is_the_same_person(number, scripts, lower, sep):
    typed = "".join(
        chr(SCRIPTS[script] + int(char)) if char.isdigit() else char
        for char, script in zip(number, scripts, strict=True)
    )
    if lower:
        typed = typed.lower()
    typed = sep.join([typed[:6], typed[6:14], typed[14:]])
    assert normalise_id_number(typed) == number


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def valid_credit_codes(draw) -> str:
    first17 = draw(st.text(st.sampled_from(USCC_ALPHABET), min_size=17, max_size=17))
    return first17 + uscc_check_char(first17)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(st.sampled_from(USCC_ALPHABET + "abcz -ＡＢ１２"), min_size=17, max_size=20),
        valid_credit_codes(),
        valid_credit_codes().map(str.lower),
    )
)
def test_any_text_is_either_a_canonical_credit_code_or_refused(typed):
    try:
        code = normalise_credit_code(typed)
    except ValidationError as error:
        assert error.code in {"uscc_format", "uscc_checksum"}
        return
    assert len(code) == 18 and set(code) <= set(USCC_ALPHABET)
    assert uscc.calc_check_digit(code) == code[17]
    assert normalise_credit_code(code) == code


def test_digits_that_are_not_decimal_are_refused_not_a_server_error():
    # Ethiopic numerals (፩ ...) are digits to str.isdigit() but have no decimal value.
    error = refusal(normalise_id_number, "፩፩0105194912310021"[:18])
    assert error.code == "id_format"
    assert refusal(normalise_credit_code, "፩" * 18).code == "uscc_format"
