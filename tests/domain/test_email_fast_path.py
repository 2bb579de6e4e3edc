"""The email check's fast path agrees with email-validator."""

from __future__ import annotations

import unicodedata

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custsync_cli.domain.models import FieldError
from custsync_cli.domain.settings import ValidationSettings
from custsync_cli.domain.validation import Validator, plain_email_ok

CJK_LABEL = "\u4e2d" * 38  # the longest label of this character IDNA allows (44 ASCII bytes)
DOMAINS = [
    "example.com",
    "EXAMPLE.com",
    "b.se",
    "ex\u00e4mple.se",
    "xn--exmple-cua.se",
    f"{CJK_LABEL}.{CJK_LABEL}.com",
    f"{CJK_LABEL}.com",
    ".".join(["a" * 63] * 3) + ".com",
    ".".join(["a" * 60] * 3) + ".se",
    "example",
    "localhost",
    "-bad.com",
    "a..b.com",
    "ex ample.com",
    "example.com.",
    "\u0338example.com",
    "<example.com>",
    "",
]
# ASCII atext and specials, Latin letters inside and outside the fast path's range, the
# multiplication sign, a combining accent, a title-case digraph, fullwidth and small at-signs.
LOCAL_ALPHABET = [
    *"aZ09_+-.!#'\"@< ",
    "\u00c0",
    "\u00e5",
    "\u00f6",
    "\u00ff",
    "\u0141",
    "\u017f",
    "\u00d7",
    "\u0301",
    "\u01c5",
    "\u00aa",
    "\uff20",
    "\ufe6b",
]
# No length limit: these errors are the email rule's alone.
EMAIL_ONLY = Validator(ValidationSettings(max_lengths={}))
FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def library_ok(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


LOCALS = st.one_of(
    st.text(alphabet=st.sampled_from(LOCAL_ALPHABET), max_size=24),
    st.integers(0, 200).map(lambda n: "a" * n),
    st.integers(0, 100).map(lambda n: "\u00f6" * n),
)
ADDRESSES = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", LOCALS, st.sampled_from(DOMAINS)),
    st.text(alphabet=st.sampled_from([*LOCAL_ALPHABET, "e", "."]), max_size=30),
)


@FUZZ
@given(value=ADDRESSES)
def test_fast_path_agrees_with_email_validator(value: str) -> None:
    if plain_email_ok(value):
        assert library_ok(value), value


@FUZZ
@given(value=ADDRESSES)
def test_email_errors_match_the_library_rule(value: str) -> None:
    expected = (
        None
        if library_ok(value)
        else FieldError("email", "invalid_email", f"email '{value}' is not a valid address")
    )
    assert EMAIL_ONLY.check_value("email", value) == expected


@pytest.mark.parametrize("code", range(0xC0, 0x180))
def test_every_latin_letter_of_the_fast_path(code: int) -> None:
    local = f"x{chr(code)}y"
    assert unicodedata.is_normalized("NFC", local)
    fast = plain_email_ok(f"{local}@example.com")
    assert fast == (code not in (0xD7, 0xF7))
    assert library_ok(f"{local}@example.com") or not fast


@pytest.mark.parametrize("size", [1, 30, 64, 65, 100, 180, 190, 200, 240, 252, 253])
@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("letter", ["a", "\u00f6"])
def test_length_limits_in_every_form(size: int, domain: str, letter: str) -> None:
    value = f"{letter * size}@{domain}"
    if plain_email_ok(value):
        assert library_ok(value)


def test_common_addresses_take_the_fast_path() -> None:
    assert plain_email_ok("anna.svensson.0x12@example.com")
    assert plain_email_ok("liam.ekstr\u00f6m.3x5@example.com")
    assert not plain_email_ok(f"{'a' * 30}@{CJK_LABEL}.{CJK_LABEL}.com")
    assert not library_ok(f"{'a' * 30}@{CJK_LABEL}.{CJK_LABEL}.com")
