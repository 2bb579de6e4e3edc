"""The phone check's fast path agrees with phonenumbers.parse + is_possible_number."""

from __future__ import annotations

import functools
import random
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custsync_cli.config import parse_config
from custsync_cli.domain.models import FieldError
from custsync_cli.domain.validation import Validator, international_phone_possible

CALLING_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
REGIONS = [None, "SE", "NO", "FI", "US", "AR", "BR", "IT", "GB", "XX", "ZZ"]
SEPARATORS = [" ", "-", "  ", " - ", "--"]
# Arabic-Indic three, fullwidth zero, Devanagari seven, fullwidth plus, no-break space.
UNICODE = ["\u0663", "\uff10", "\u096d", "\uff0b", "\u00a0"]
FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def library_possible(value: str, region: str | None) -> bool:
    try:
        return bool(phonenumbers.is_possible_number(phonenumbers.parse(value, region)))
    except phonenumbers.NumberParseException:
        return False


def reference_phone(name: str, value: str, region: str | None) -> FieldError | None:
    """The phone rule as written before the fast path existed."""
    if library_possible(value, region):
        return None
    hint = "" if region else " (start it with + and the country code)"
    return FieldError(name, "invalid_phone", f"{name} '{value}' is not a phone number{hint}")


@functools.cache
def validator(region: str | None) -> Validator:
    validation = {"phone_region": region} if region else {}
    data = {"store": "x.db", "channels": [], "validation": validation}
    return Validator(parse_config(data, Path("/tmp/custsync.yaml")).validation)


def assert_agrees(value: str, region: str | None) -> None:
    fast = international_phone_possible(value)
    if fast is not None:
        assert fast == library_possible(value, region), (value, region)


def spaced(digits: str, rng: random.Random) -> str:
    out = ""
    for digit in digits:
        out += digit
        if rng.random() < 0.25:
            out += rng.choice(SEPARATORS)
    return out.rstrip(" -")


@st.composite
def international(draw: st.DrawFn) -> str:
    """'+', a calling code (usually a real one), maybe a national prefix, 0..20 digits."""
    code = draw(
        st.one_of(
            st.sampled_from(CALLING_CODES).map(str),
            st.integers(0, 999).map(str),
            st.sampled_from(["0", "00", ""]),
        )
    )
    prefix = draw(st.sampled_from(["", "", "", "0", "00", "1", "15", "8", "9", "06"]))
    national = draw(st.text(alphabet="0123456789", min_size=0, max_size=20))
    digits = code + prefix + national
    cuts = draw(st.lists(st.integers(0, len(digits)), max_size=6))
    parts: list[str] = []
    last = 0
    for cut in sorted(set(cuts)):
        parts.append(digits[last:cut])
        parts.append(draw(st.sampled_from(SEPARATORS)))
        last = cut
    parts.append(digits[last:])
    return "+" + "".join(parts)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """An international number with characters swapped for letters, unicode digits or marks."""
    value = list(draw(international()))
    odd = ["a", "X", "x", "#", *UNICODE, "+", "(", ")", ".", " ", "-", ";"]
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(value)))
        value.insert(position, draw(st.sampled_from(odd)))
    return "".join(value)


ANY_TEXT = st.text(
    alphabet=st.sampled_from([*"0123456789 +-()x#aZ", *UNICODE]),
    max_size=25,
)


@FUZZ
@given(value=st.one_of(international(), mutated(), ANY_TEXT), region=st.sampled_from(REGIONS))
def test_fast_path_agrees_with_phonenumbers(value: str, region: str | None) -> None:
    assert_agrees(value, region)


@settings(FUZZ, max_examples=200)
@given(value=st.one_of(international(), mutated(), ANY_TEXT), region=st.sampled_from(REGIONS))
def test_phone_errors_match_the_library_rule(value: str, region: str | None) -> None:
    assert validator(region)._phone("phone", value) == reference_phone("phone", value, region)


def test_every_calling_code_and_length() -> None:
    rng = random.Random(7)
    answered = 0
    for code in CALLING_CODES:
        for length in range(21):
            for lead in ("", "0", "1"):
                national = lead + "".join(rng.choice("0123456789") for _ in range(length))
                plain, separated = f"+{code}{national}", "+" + spaced(f"{code}{national}", rng)
                assert_agrees(plain, None)
                assert_agrees(separated, "SE")
                answered += international_phone_possible(separated) is not None
    assert answered > len(CALLING_CODES) * 21 * 3 // 2  # the fast path decides most of them


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_example_numbers_of_every_region(region: str) -> None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None
    code = metadata.country_code
    prefix = metadata.national_prefix or ""
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        national = phonenumbers.national_significant_number(example)
        style = phonenumbers.PhoneNumberFormat.INTERNATIONAL
        for value in (
            phonenumbers.format_number(example, style),
            f"+{code}{national}",
            f"+{code} {prefix}{national}",
            f"+{code}-{national[:-1]}",
            f"+{code} {national}0",
        ):
            assert_agrees(value, None)
            assert_agrees(value, region)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+46 70 1234567", True),
        ("+47 91234567", True),
        ("+358 40 1234567", True),
        ("+46 70-123 45 67", True),
        ("+46 7", False),
        ("+12", False),
        ("+46 70 12345678901234", False),
        ("+46 070 1234567", None),  # national prefix after the code: phonenumbers decides
        ("+0 46 70 1234567", None),  # no calling code starts with 0
        ("+999 1234567", None),  # unknown calling code: phonenumbers retries without the "+"
        ("070-123 45 67", None),
        ("+46 7O 1234567", None),
        ("+46 \uff170 1234567", None),
        (" +46 70 1234567", None),
    ],
)
def test_fast_path_answers_common_shapes_only(value: str, expected: bool | None) -> None:
    assert international_phone_possible(value) is expected
    if expected is not None:
        assert expected == library_possible(value, None) == library_possible(value, "SE")
