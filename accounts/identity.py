"""Identity numbers: the ID number of a person and the credit code of an organisation.

Subjects of the integrity register are keyed by these, never by login accounts, so
each has exactly one canonical form: a number typed with full-width digits, another
script's digits, spaces or hyphens is the same person (DESIGN §4). The check digits
are python-stdnum's (stdnum.cn.ric, stdnum.cn.uscc); only the canonicalising and the
messages are ours.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

ID_CHARS = frozenset("0123456789X")
# GB 32100-2015: 31 characters, no I, O, Z, S, V.
USCC_CHARS = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")


def _id_format_error() -> ValidationError:
    return ValidationError(
        _("An ID number has 18 characters: 17 digits and a final digit or X."),
        code="id_format",
    )


def _id_birthdate_error() -> ValidationError:
    return ValidationError(
        _("The date of birth in this ID number does not exist."), code="id_birthdate"
    )


def _id_checksum_error() -> ValidationError:
    return ValidationError(
        _("The check digit of this ID number is wrong; please check for a typo."),
        code="id_checksum",
    )


def _uscc_format_error() -> ValidationError:
    return ValidationError(
        _(
            "A unified social credit code has 18 characters from digits and capital "
            "letters other than I, O, Z, S and V."
        ),
        code="uscc_format",
    )


def _uscc_checksum_error() -> ValidationError:
    return ValidationError(
        _("The check character of this credit code is wrong; please check for a typo."),
        code="uscc_checksum",
    )


def _is_separator(char: str) -> bool:
    # Spaces and dashes of any script (no-break space, en dash, 〜 ...); not tabs,
    # newlines or other control characters, which are refused with the rest.
    return unicodedata.category(char) in ("Zs", "Pd")


def canonical_chars(value: str | None) -> str:
    """NFKC, any script's decimal digits as ASCII, no spaces or dashes, upper case.

    What is left may still hold other characters; the callers refuse those.
    """
    # Not a string (None, a number from a spreadsheet): nothing to read, refused after.
    text = unicodedata.normalize("NFKC", value if isinstance(value, str) else "").strip()
    chars = []
    for char in text:
        if _is_separator(char):
            continue
        # Arabic-Indic ٣, Devanagari ३ ... are decimal digits; Ethiopic ፫ is not (it stays).
        digit = unicodedata.decimal(char, None)
        chars.append(str(digit) if digit is not None else char)
    return "".join(chars).upper()


def normalise_id_number(value: str | None) -> str:
    """Return the canonical 18-character ID number or raise ValidationError."""
    number = canonical_chars(value)
    if len(number) != 18 or not set(number[:17]) <= ID_CHARS - {"X"} or number[17] not in ID_CHARS:
        raise _id_format_error()
    try:
        ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise _id_birthdate_error() from None
    try:
        ric.validate(number)
    except stdnum_errors.InvalidChecksum:
        raise _id_checksum_error() from None
    except stdnum_errors.InvalidComponent:
        # The birth date is checked above, so this is stdnum's birth-place table not
        # knowing the area code for that year (new or renamed counties, numbers issued
        # after a county's code changed). The checksum has passed by then: accept.
        pass
    except stdnum_errors.ValidationError:
        raise _id_format_error() from None
    return number


def normalise_credit_code(value: str | None) -> str:
    """Return the canonical unified social credit code or raise ValidationError."""
    code = canonical_chars(value)
    if len(code) != 18 or not set(code) <= USCC_CHARS:
        raise _uscc_format_error()
    try:
        uscc.validate(code)
    except stdnum_errors.InvalidChecksum:
        raise _uscc_checksum_error() from None
    except stdnum_errors.InvalidFormat:
        # stdnum wants digits in the first 8 places, but GB 32100 lets the registering
        # authority be a letter (A, N, Y); the alphabet is checked above, so check the
        # check character alone.
        if uscc.calc_check_digit(code) != code[17]:
            raise _uscc_checksum_error() from None
    except stdnum_errors.ValidationError:
        raise _uscc_format_error() from None
    return code


def id_number_check_char(first17: str) -> str:
    """The check digit that completes 17 digits into an ID number."""
    return ric.calc_check_digit(first17 + "0")  # stdnum ignores the last character


def uscc_check_char(first17: str) -> str:
    """The check character that completes 17 characters into a credit code."""
    return uscc.calc_check_digit(first17)


def mask_id_number(number: str) -> str:
    """Show enough of an ID number to recognise it, not to copy it."""
    return f"{number[:6]}********{number[-4:]}" if len(number) == 18 else number
