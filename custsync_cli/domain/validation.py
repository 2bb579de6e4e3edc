"""Validation rules for operations, each failure with a stable code and a plain sentence."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from custsync_cli.domain.fields import (
    ADDRESS_PURPOSES,
    CUSTOMER_TYPES,
    Catalogue,
    parse_boolean,
)
from custsync_cli.domain.models import FieldError, OperationType
from custsync_cli.domain.settings import AttributeSpec, ValidationSettings

Values = Mapping[str, str | None]
Check = Callable[[str, str], FieldError | None]

ADDRESS_REQUIRED_ON_CREATE = ("street", "city", "country")
# C0 except tab, DEL and C1: they can drive a terminal and have no place in a customer field.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@cache
def iso_countries() -> frozenset[str]:
    import pycountry

    return frozenset(country.alpha_3 for country in pycountry.countries)


@cache
def iso_currencies() -> frozenset[str]:
    import pycountry

    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


@cache
def _bcp47_valid(tag: str) -> bool:
    import langcodes

    return bool(langcodes.tag_is_valid(tag))


# A plain dot-atom local part of ASCII letters, digits, "_", "+", "-" and the precomposed Latin
# letters U+00C0..U+017F (no multiplication or division sign): email-validator accepts every
# one of these unchanged by normalization, so an address of this shape is valid exactly when
# its domain is (checked once per domain and cached) and all three forms whose length it
# checks fit in 254 UTF-8 bytes.
_LOCAL_CHARS = r"A-Za-z0-9_+\-\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
_PLAIN_LOCAL_PART = re.compile(rf"[{_LOCAL_CHARS}]+(?:\.[{_LOCAL_CHARS}]+)*\Z")
_EMAIL_MAX_BYTES = 254


@lru_cache(maxsize=4096)
def _email_domain_length(domain: str) -> int | None:
    """The longest UTF-8 length of an accepted domain's forms, or None if it is rejected.

    email-validator checks the address as given, with the domain normalized to Unicode, and
    with the domain in IDNA ASCII.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    if not checked.ascii_domain:
        return None
    return max(len(domain.encode()), len(checked.domain.encode()), len(checked.ascii_domain))


def plain_email_ok(value: str) -> bool:
    """True for a plain address email-validator would accept; False means "ask it".

    The email rule's fast path, public so that it can be checked against the library.
    """
    local, at, domain = value.rpartition("@")
    if not at or len(local) > 64 or not _PLAIN_LOCAL_PART.match(local):
        return False
    length = _email_domain_length(domain)
    return length is not None and len(local.encode()) + 1 + length <= _EMAIL_MAX_BYTES


# "+", then ASCII digit groups separated by spaces or hyphens: how channels send phone numbers.
# For this shape phonenumbers.parse strips the "+", takes the shortest known country calling
# code and keeps the rest as the national number; the default region plays no part. Unless
# the national prefix pattern matches (then parsing may strip or rewrite a prefix), whether
# the number is possible depends only on the calling code and the national number's length.
_INTERNATIONAL_PHONE = re.compile(r"\+[0-9]+(?:[ -]+[0-9]+)*")
_PHONE_SEPARATORS = str.maketrans("", "", " -")
# phonenumbers' own bounds: input length, digits after an IDD, national number length.
_PHONE_MAX_INPUT = 250
_PHONE_MIN_AFTER_IDD = 3
_PHONE_NSN_LENGTHS = range(2, 18)


@cache
def _calling_code_rules(lead: str) -> tuple[int, re.Pattern[str] | None, frozenset[int]] | None:
    """For the first three digits after "+": the calling code's length, national prefix
    pattern and possible national number lengths, or None when phonenumbers must decide."""
    import phonenumbers
    from phonenumbers import PhoneMetadata, PhoneNumber

    # The shortest leading digits that are a known calling code, as phonenumbers reads them.
    size = next(
        (n for n in (1, 2, 3) if int(lead[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE), 0
    )
    if lead.startswith("0") or not size:
        return None
    code = int(lead[:size])
    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    lengths = frozenset(
        length
        for length in _PHONE_NSN_LENGTHS
        if phonenumbers.is_possible_number(
            PhoneNumber(country_code=code, national_number=int("1" * length))
        )
    )
    return size, (re.compile(prefix) if prefix else None), lengths


def international_phone_possible(value: str) -> bool | None:
    """phonenumbers' verdict (parse, then is_possible_number) or None to ask it.

    The phone rule's fast path for "+" numbers, public so that it can be checked against the
    library; the answer is the same for every default region.
    """
    if len(value) > _PHONE_MAX_INPUT or not _INTERNATIONAL_PHONE.fullmatch(value):
        return None
    digits = value[1:].translate(_PHONE_SEPARATORS)
    if len(digits) < _PHONE_MIN_AFTER_IDD:
        return False
    rules = _calling_code_rules(digits[:3])
    if rules is None:
        return None
    size, prefix, lengths = rules
    national = digits[size:]
    if len(national) >= _PHONE_NSN_LENGTHS.start and prefix is not None and prefix.match(national):
        return None
    return len(national) in lengths


class Validator:
    """Checks an operation's values against the configured rules."""

    def __init__(self, settings: ValidationSettings) -> None:
        self.rules = settings
        self.attributes = {a.name: a for a in settings.attributes}
        self.catalogue = Catalogue(tuple(self.attributes))
        self._field_checks: dict[str, Check] = {
            "type": self._choice_check(CUSTOMER_TYPES),
            "purpose": self._choice_check(ADDRESS_PURPOSES),
            "email": self._email,
            "phone": self._phone,
            "country": self._country,
            "currency": self._currency,
            "language": self._language,
            "customer_group": self._customer_group,
            "is_primary": self._boolean,
        }
        self._allowed = {
            kind: frozenset(self.catalogue.allowed_for(kind)) for kind in OperationType
        }
        self._required_attributes = tuple(a.name for a in self.attributes.values() if a.required)
        self._plans: dict[str, tuple[int | None, Check | None]] = {}

    def check(
        self,
        kind: OperationType | None,
        operation_name: str,
        changes: Values,
        current: Values | None,
    ) -> list[FieldError]:
        """All errors of applying ``changes`` on top of ``current`` (None for a create)."""
        if kind is None:
            return [
                FieldError(
                    "operation",
                    "invalid_operation",
                    f"'{operation_name}' is not an operation type custsync knows",
                )
            ]
        allowed = self._allowed[kind]
        errors: list[FieldError] = []
        if not allowed.issuperset(changes):
            what = "an address" if kind.is_address else "a customer"
            errors = [
                FieldError(name, "unknown_field", f"'{name}' is not {what} field")
                for name in changes
                if name not in allowed
            ]
        for name, value in changes.items():
            if name in allowed and value is not None and value != "":
                error = self.check_value(name, value)
                if error:
                    errors.append(error)
        errors.extend(self._required(kind, changes, current))
        return errors

    def check_value(self, name: str, value: str) -> FieldError | None:
        """Format, length and range checks for one field value."""
        control = _CONTROL_CHARACTER.search(value)
        if control:
            # The code point, not the value: the value is what cannot be shown as is.
            return FieldError(
                name,
                "control_character",
                f"{name} holds the control character U+{ord(control.group()):04X};"
                " HQ accepts only printable text and tabs",
            )
        limit, field_check = self._plans.get(name) or self._plan(name)
        if limit is not None and len(value) > limit:
            return FieldError(
                name,
                "too_long",
                f"{name} is {len(value)} characters long; HQ allows at most {limit}",
            )
        return field_check(name, value) if field_check else None

    def _plan(self, name: str) -> tuple[int | None, Check | None]:
        """A field's length limit and format check, worked out once per field name."""
        limit = self.rules.max_lengths.get(name)
        attribute = self.attributes.get(name)
        field_check = self._field_checks.get(name)
        if attribute:
            if attribute.max_length:
                limit = attribute.max_length
            field_check = self._attribute_check(attribute)
        plan = self._plans[name] = (limit, field_check)
        return plan

    def _attribute_check(self, attribute: AttributeSpec) -> Check:
        def check(name: str, value: str) -> FieldError | None:
            return self._attribute(attribute, value)

        return check

    def _required(
        self, kind: OperationType, changes: Values, current: Values | None
    ) -> list[FieldError]:
        merged = {**current, **changes} if current else changes
        needed: tuple[str, ...]
        if kind is OperationType.CREATE_ADDRESS:
            needed = ("address_id", *ADDRESS_REQUIRED_ON_CREATE)
        elif kind is OperationType.UPDATE_ADDRESS:
            needed = ("address_id",)
        else:
            kind_value = merged.get("type")
            if kind_value is None or not kind_value.strip():
                needed = ("type",)
            elif kind_value == "person":
                needed = ("first_name", "last_name")
            elif kind_value == "organization":
                needed = ("organization_name",)
            else:
                needed = ()
            attributes = self._required_attributes
            if attributes:
                if kind is not OperationType.CREATE_CUSTOMER:
                    attributes = tuple(name for name in attributes if name in changes)
                needed = tuple(dict.fromkeys(needed + attributes))
        errors: list[FieldError] = []
        for name in needed:
            value = merged.get(name)
            if value is None or not value.strip():
                errors.append(FieldError(name, "required", f"{name} is missing"))
        return errors

    @staticmethod
    def _choice_check(choices: tuple[str, ...]) -> Check:
        def check(name: str, value: str) -> FieldError | None:
            if value in choices:
                return None
            return FieldError(
                name, "invalid_choice", f"{name} '{value}' must be one of {', '.join(choices)}"
            )

        return check

    @staticmethod
    def _email(name: str, value: str) -> FieldError | None:
        if plain_email_ok(value):
            return None
        # email-validator rejects every string without an @-sign.
        if "@" in value:
            from email_validator import EmailNotValidError, validate_email

            try:
                validate_email(value, check_deliverability=False)
            except EmailNotValidError:
                pass
            else:
                return None
        return FieldError(name, "invalid_email", f"{name} '{value}' is not a valid address")

    def _phone(self, name: str, value: str) -> FieldError | None:
        possible = international_phone_possible(value)
        if possible:
            return None
        region = self.rules.phone_region
        if possible is None:
            import phonenumbers

            try:
                number = phonenumbers.parse(value, region)
                if phonenumbers.is_possible_number(number):
                    return None
            except phonenumbers.NumberParseException:
                pass
        hint = "" if region else " (start it with + and the country code)"
        return FieldError(name, "invalid_phone", f"{name} '{value}' is not a phone number{hint}")

    def _country(self, name: str, value: str) -> FieldError | None:
        allowed = self.rules.countries
        if value in (allowed if allowed is not None else iso_countries()):
            return None
        what = "an allowed country" if allowed is not None else "an ISO 3166 alpha-3 code"
        return FieldError(
            name, "invalid_country", f"{name} '{value}' is not {what} (for example SWE, USA)"
        )

    def _currency(self, name: str, value: str) -> FieldError | None:
        allowed = self.rules.currencies
        if value in (allowed if allowed is not None else iso_currencies()):
            return None
        what = "an allowed currency" if allowed is not None else "an ISO 4217 currency code"
        return FieldError(name, "invalid_currency", f"{name} '{value}' is not {what}")

    def _language(self, name: str, value: str) -> FieldError | None:
        allowed = self.rules.languages
        ok = value in allowed if allowed is not None else _bcp47_valid(value)
        if ok:
            return None
        what = "an allowed language" if allowed is not None else "a BCP 47 language tag"
        return FieldError(name, "invalid_language", f"{name} '{value}' is not {what}")

    def _customer_group(self, name: str, value: str) -> FieldError | None:
        allowed = self.rules.customer_groups
        if allowed is None or value in allowed:
            return None
        return FieldError(
            name,
            "invalid_customer_group",
            f"{name} '{value}' is not a configured customer group ({', '.join(allowed)})",
        )

    @staticmethod
    def _boolean(name: str, value: str) -> FieldError | None:
        if parse_boolean(value) is None:
            return FieldError(name, "invalid_boolean", f"{name} '{value}' must be true or false")
        return None

    def _attribute(self, attribute: AttributeSpec, value: str) -> FieldError | None:
        name = attribute.name
        if attribute.type == "boolean":
            return self._boolean(name, value)
        if attribute.type == "choice":
            return self._choice_check(attribute.choices)(name, value)
        if attribute.type in ("integer", "decimal"):
            number = _parse_number(value, integer=attribute.type == "integer")
            if number is None:
                article = "an integer" if attribute.type == "integer" else "a number"
                return FieldError(
                    name, f"invalid_{attribute.type}", f"{name} '{value}' is not {article}"
                )
            low, high = attribute.min, attribute.max
            if (low is not None and number < Decimal(str(low))) or (
                high is not None and number > Decimal(str(high))
            ):
                bounds = f"{_fmt(low)}..{_fmt(high)}"
                return FieldError(
                    name, "out_of_range", f"{name} {value} is outside the allowed range {bounds}"
                )
        return None


def _parse_number(value: str, *, integer: bool) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if integer and number != number.to_integral_value():
        return None
    return number


def _fmt(bound: float | None) -> str:
    if bound is None:
        return ""
    return str(int(bound)) if bound == int(bound) else str(bound)
