"""Identity numbers: the ID number of a person and the credit code of an organisation.

Subjects of the integrity register are keyed by these, never by login accounts.
"""

from __future__ import annotations

import datetime
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# GB 32100-2015: 31 characters, no I, O, Z, S, V.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _half_width(value: str) -> str:
    # NFKC turns full-width digits and letters (１２３Ｘ) into ASCII.
    return unicodedata.normalize("NFKC", value or "").strip().replace(" ", "").upper()


def normalise_id_number(value: str) -> str:
    """Return the canonical 18-character ID number or raise ValidationError."""
    number = _half_width(value)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits and a final digit or X."),
            code="id_format",
        )
    try:
        datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The date of birth in this ID number does not exist."), code="id_birthdate"
        ) from None
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        raise ValidationError(
            _("The check digit of this ID number is wrong; please check for a typo."),
            code="id_checksum",
        )
    return number


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    """Return the canonical unified social credit code or raise ValidationError."""
    code = _half_width(value)
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        raise ValidationError(
            _(
                "A unified social credit code has 18 characters from digits and capital "
                "letters other than I, O, Z, S and V."
            ),
            code="uscc_format",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The check character of this credit code is wrong; please check for a typo."),
            code="uscc_checksum",
        )
    return code


def mask_id_number(number: str) -> str:
    """Show enough of an ID number to recognise it, not to copy it."""
    return f"{number[:6]}********{number[-4:]}" if len(number) == 18 else number
