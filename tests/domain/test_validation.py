"""Every validation rule and its stable error code."""

from __future__ import annotations

from pathlib import Path

import pytest

from custsync_cli.config import parse_config
from custsync_cli.domain.models import OperationType
from custsync_cli.domain.validation import Validator

CREATE = OperationType.CREATE_CUSTOMER
UPDATE = OperationType.UPDATE_CUSTOMER
CREATE_ADDRESS = OperationType.CREATE_ADDRESS


def validator(**settings: object) -> Validator:
    data = {"store": "x.db", "channels": [], **settings}
    return Validator(parse_config(data, Path("/tmp/custsync.yaml")).validation)


def person(**extra: str | None) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "type": "person",
        "first_name": "Anna",
        "last_name": "Svensson",
        "email": "anna@example.se",
        "phone": "+46 70 123 45 67",
        "currency": "SEK",
        "language": "sv-SE",
    }
    values.update(extra)
    return values


def codes(errors: list) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errors]


def test_valid_person_passes() -> None:
    assert validator().check(CREATE, "create_customer", person(), None) == []


def test_person_needs_first_and_last_name() -> None:
    errors = validator().check(
        CREATE, "create_customer", person(last_name=None, first_name=""), None
    )
    assert codes(errors) == [("first_name", "required"), ("last_name", "required")]
    assert errors[1].message == "last_name is missing"


def test_organization_needs_organization_name() -> None:
    values = {"type": "organization", "email": "info@acme.example.com"}
    errors = validator().check(CREATE, "create_customer", values, None)
    assert codes(errors) == [("organization_name", "required")]


def test_type_is_required_and_a_choice() -> None:
    assert codes(validator().check(CREATE, "create_customer", {"email": "a@b.se"}, None)) == [
        ("type", "required")
    ]
    errors = validator().check(CREATE, "create_customer", person(type="robot"), None)
    assert ("type", "invalid_choice") in codes(errors)


def test_too_long_uses_hq_lengths_and_config_overrides() -> None:
    long_name = "A" * 26
    errors = validator().check(CREATE, "create_customer", person(first_name=long_name), None)
    assert codes(errors) == [("first_name", "too_long")]
    assert "26 characters" in errors[0].message and "at most 25" in errors[0].message
    relaxed = validator(validation={"max_lengths": {"first_name": 40}})
    assert relaxed.check(CREATE, "create_customer", person(first_name=long_name), None) == []


@pytest.mark.parametrize("email", ["anna@", "anna at example.se", "a@@b.se", "@example.se"])
def test_invalid_email(email: str) -> None:
    errors = validator().check(CREATE, "create_customer", person(email=email), None)
    assert codes(errors) == [("email", "invalid_email")]
    assert email in errors[0].message


@pytest.mark.parametrize("phone", ["070-ABC 12", "12", "0701234567"])
def test_invalid_phone_without_region(phone: str) -> None:
    errors = validator().check(CREATE, "create_customer", person(phone=phone), None)
    assert codes(errors) == [("phone", "invalid_phone")]


def test_national_phone_accepted_with_region() -> None:
    with_region = validator(validation={"phone_region": "SE"})
    assert with_region.check(CREATE, "create_customer", person(phone="070-123 45 67"), None) == []


def test_country_iso_alpha3_by_default_and_configured_list() -> None:
    v = validator()
    good = {"address_id": "A1", "street": "Main St 1", "city": "Oslo", "country": "NOR"}
    assert v.check(CREATE_ADDRESS, "create_address", good, None) == []
    errors = v.check(CREATE_ADDRESS, "create_address", {**good, "country": "SVE"}, None)
    assert codes(errors) == [("country", "invalid_country")]
    only_nordic = validator(validation={"countries": ["SWE", "DNK"]})
    errors = only_nordic.check(CREATE_ADDRESS, "create_address", good, None)
    assert codes(errors) == [("country", "invalid_country")]


def test_currency_language_and_group_lists() -> None:
    v = validator()
    assert codes(v.check(CREATE, "create_customer", person(currency="XXY"), None)) == [
        ("currency", "invalid_currency")
    ]
    assert codes(v.check(CREATE, "create_customer", person(language="sv_SE!"), None)) == [
        ("language", "invalid_language")
    ]
    assert v.check(CREATE, "create_customer", person(customer_group="anything"), None) == []
    strict = validator(
        validation={"currencies": ["EUR"], "languages": ["de-DE"], "customer_groups": ["retail"]}
    )
    errors = strict.check(CREATE, "create_customer", person(customer_group="vip"), None)
    assert sorted(code for _, code in codes(errors)) == [
        "invalid_currency",
        "invalid_customer_group",
        "invalid_language",
    ]


def test_unknown_field_for_the_operation_type() -> None:
    errors = validator().check(CREATE, "create_customer", person(street="Main St 1"), None)
    assert codes(errors) == [("street", "unknown_field")]
    assert "'street' is not a customer field" in errors[0].message


def test_several_failures_are_all_reported() -> None:
    values = person(email="anna@", last_name=None, currency="XYZ", first_name="A" * 30)
    assert {
        code for _, code in codes(validator().check(CREATE, "create_customer", values, None))
    } == {
        "invalid_email",
        "required",
        "invalid_currency",
        "too_long",
    }


def test_update_checks_the_merged_record() -> None:
    current = person()
    v = validator()
    assert v.check(UPDATE, "update_customer", {"phone": "+46 70 765 43 21"}, current) == []
    errors = v.check(UPDATE, "update_customer", {"last_name": ""}, current)
    assert codes(errors) == [("last_name", "required")]


def test_address_rules() -> None:
    v = validator()
    errors = v.check(CREATE_ADDRESS, "create_address", {"street": "x", "purpose": "holiday"}, None)
    assert set(codes(errors)) == {
        ("purpose", "invalid_choice"),
        ("address_id", "required"),
        ("city", "required"),
        ("country", "required"),
    }
    errors = v.check(
        OperationType.UPDATE_ADDRESS,
        "update_address",
        {"address_id": "A1", "is_primary": "maybe"},
        {},
    )
    assert codes(errors) == [("is_primary", "invalid_boolean")]


ATTRIBUTES = [
    {"name": "loyalty_tier", "type": "choice", "choices": ["bronze", "gold"]},
    {"name": "birth_year", "type": "integer", "min": 1900, "max": 2026},
    {"name": "credit_limit", "type": "decimal", "min": 0, "max": 10000.5},
    {"name": "newsletter", "type": "boolean"},
    {"name": "nickname", "type": "text", "max_length": 5},
    {"name": "member_no", "type": "text", "required": True},
]


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("loyalty_tier", "platinum", "invalid_choice"),
        ("birth_year", "19x0", "invalid_integer"),
        ("birth_year", "1985.5", "invalid_integer"),
        ("birth_year", "1850", "out_of_range"),
        ("credit_limit", "abc", "invalid_decimal"),
        ("credit_limit", "10000.75", "out_of_range"),
        ("newsletter", "perhaps", "invalid_boolean"),
        ("nickname", "Annika", "too_long"),
    ],
)
def test_attribute_types_and_ranges(name: str, value: str, code: str) -> None:
    v = validator(attributes=ATTRIBUTES)
    errors = v.check(CREATE, "create_customer", person(member_no="1", **{name: value}), None)
    assert codes(errors) == [(name, code)]


def test_attribute_valid_values_and_required_attribute() -> None:
    v = validator(attributes=ATTRIBUTES)
    values = person(
        loyalty_tier="gold",
        birth_year="1985",
        credit_limit="99.50",
        newsletter="true",
        nickname="Ann",
        member_no="M-1",
    )
    assert v.check(CREATE, "create_customer", values, None) == []
    errors = v.check(CREATE, "create_customer", person(), None)
    assert codes(errors) == [("member_no", "required")]


def test_unknown_operation_type() -> None:
    errors = validator().check(None, "delete_customer", {}, None)
    assert codes(errors) == [("operation", "invalid_operation")]
