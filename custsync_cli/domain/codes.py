"""The catalogue of every stable error code: what it means, its usual cause, and the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One stable machine code as scripts see it in ``errors[].code`` and ``--error-code``."""

    code: str
    stage: str
    summary: str
    cause: str
    fix: str


_ENTRIES = (
    # Validation (sync, edit, resync).
    ErrorCode(
        "required",
        "validation",
        "a required field is empty",
        "A person was sent without first_name or last_name, an organization without"
        " organization_name, an address create without its required fields, or a required"
        " attribute is missing.",
        "Fill the field: `custsync edit OP --set last_name=...`. For a required attribute"
        " that channels cannot send, set `required: false` on it under `attributes`.",
    ),
    ErrorCode(
        "too_long",
        "validation",
        "a value is longer than the HQ column",
        "Channel columns are longer than HQ columns (e.g. street > 60 characters).",
        "Shorten the value with `custsync edit OP --set street=...`, or raise"
        " `validation.max_lengths.<field>` (or the attribute's `max_length`) if HQ allows it.",
    ),
    ErrorCode(
        "control_character",
        "validation",
        "a value holds a control character (C0 except tab, DEL or C1)",
        "A terminal escape sequence, a line break or a NUL pasted or injected into a field;"
        " commands show it as an escape such as `\\x1b`.",
        "`custsync edit OP --set <field>=...` with the plain text, or `--unset <field>`.",
    ),
    ErrorCode(
        "invalid_email",
        "validation",
        "email is not a valid address",
        "A typo at the till: missing @, missing domain, spaces.",
        "`custsync edit OP --set email=name@example.se`, or `--unset email`.",
    ),
    ErrorCode(
        "invalid_phone",
        "validation",
        "phone is not a phone number",
        "A local number without the country code, or letters in the number.",
        "Write it with + and the country code (`--set phone=+46701234567`), or set"
        " `validation.phone_region` (e.g. SE) so local numbers are accepted.",
    ),
    ErrorCode(
        "invalid_country",
        "validation",
        "country is not an ISO 3166 alpha-3 code (or not an allowed one)",
        "A two-letter code (SE) or a country name (Sweden) instead of SWE.",
        "`--set country=SWE`; to allow more countries edit `validation.countries`.",
    ),
    ErrorCode(
        "invalid_currency",
        "validation",
        "currency is not an ISO 4217 code (or not an allowed one)",
        "A symbol (kr, $) or a currency the config does not list.",
        "`--set currency=SEK`; or add it to `validation.currencies`.",
    ),
    ErrorCode(
        "invalid_language",
        "validation",
        "language is not a BCP 47 tag (or not an allowed one)",
        "A language name (Swedish) or a tag the config does not list.",
        "`--set language=sv-SE`; or add it to `validation.languages`.",
    ),
    ErrorCode(
        "invalid_customer_group",
        "validation",
        "customer_group is not a configured group",
        "The channel uses a group HQ does not have.",
        "`--set customer_group=...` with a listed group, or add it to"
        " `validation.customer_groups`.",
    ),
    ErrorCode(
        "invalid_choice",
        "validation",
        "the value is not one of the allowed choices",
        "type is not person/organization, purpose not home/business/delivery/invoice, or a"
        " choice attribute got an unlisted value.",
        "`--set type=person` (or the right choice); for an attribute, add the value to its"
        " `choices` in the config.",
    ),
    ErrorCode(
        "invalid_boolean",
        "validation",
        "the value is not true or false",
        "is_primary or a boolean attribute got text like 'ja'.",
        "`--set is_primary=true` (true/false, yes/no, 1/0 are accepted).",
    ),
    ErrorCode(
        "invalid_integer",
        "validation",
        "an integer attribute got something that is not an integer",
        "Text or a decimal number in an integer attribute.",
        "`--set <attribute>=1984`; or change the attribute's `type` in the config.",
    ),
    ErrorCode(
        "invalid_decimal",
        "validation",
        "a decimal attribute got something that is not a number",
        "Text, or a decimal comma (12,5) instead of a point.",
        "`--set <attribute>=12.5`.",
    ),
    ErrorCode(
        "out_of_range",
        "validation",
        "a number is outside the attribute's min..max",
        "A birth year like 19840 or a negative count.",
        "Correct the value with `--set`, or widen `min`/`max` of the attribute in the config.",
    ),
    ErrorCode(
        "unknown_field",
        "validation",
        "the channel sent a field custsync does not know",
        "A channel sends a custom field that is not declared as an attribute, or a"
        " customer field on an address operation.",
        "Declare it under `attributes` in the config, or drop it with `custsync edit OP"
        " --unset <field>`.",
    ),
    ErrorCode(
        "invalid_operation",
        "pull",
        "the operation type is not one of the four custsync knows",
        "The channel wrote an unknown `operation` into its outbox.",
        "Fix the channel software; the operation cannot be repaired here:"
        " `custsync discard OP --reason ...`.",
    ),
    # Applying to HQ (sync).
    ErrorCode(
        "unknown_customer",
        "sync",
        "an update for an async customer HQ has never seen",
        "The create of this customer was never uploaded (or came from another channel database).",
        "Find the create (`custsync list --async-account GUID`); if it is lost, discard the"
        " update with a reason.",
    ),
    ErrorCode(
        "unknown_address",
        "sync",
        "an address update for an address HQ does not have",
        "No create_address for this address_id was uploaded.",
        "Check `custsync customer show GUID`; fix `address_id` with `--set`, or discard.",
    ),
    ErrorCode(
        "customer_exists",
        "sync",
        "a create for an async customer that already has an HQ account",
        "The channel sent the create twice (e.g. after a restore of its database).",
        "Compare with `custsync customer show GUID`; usually discard the duplicate create.",
    ),
    ErrorCode(
        "address_exists",
        "sync",
        "a create_address for an address_id the customer already has",
        "The channel sent the address create twice.",
        "Discard the duplicate, or give it a new `address_id` with `--set`.",
    ),
    ErrorCode(
        "duplicate_email",
        "sync",
        "the email is already used by another HQ customer",
        "The same person was created twice (possible duplicate), or a shared email.",
        "Discard the duplicate create, or correct the email; to accept shared emails set"
        " `validation.duplicate_email: warn`.",
    ),
    ErrorCode(
        "sequence_exhausted",
        "sync",
        "the customer-account number sequence has no numbers left",
        "`sequence.last` is reached.",
        "Raise `sequence.last` (or `width`) in the config, then `custsync resync --error-code"
        " sequence_exhausted`.",
    ),
    ErrorCode(
        "dependency_discarded",
        "sync",
        "the create this operation depends on was discarded",
        "An operator discarded the create_customer/create_address this update needs.",
        "Discard this operation too, or recreate the customer from the channel.",
    ),
    # Reading the channel outbox (pull).
    ErrorCode(
        "malformed_row",
        "pull",
        "the channel wrote an outbox row custsync cannot read",
        "No async_account, no valid ISO 8601 created_at (or one outside years 1-9999 in UTC),"
        " fields that are not a JSON object or nest too deep, a column that is a blob or not"
        " valid UTF-8, or several outbox rows sharing one replication counter. The error names"
        " the column and the problem, never its value.",
        "Fix the channel software; discard the operation with a reason. Rows that share a"
        " counter are one failed operation: have the channel re-send them with counters of"
        " their own.",
    ),
    ErrorCode(
        "invalid_value",
        "pull",
        "a field holds a list or object instead of one value",
        "The channel sent structured data in a scalar field.",
        "`custsync edit OP --set <field>=...` with a single value, or `--unset <field>`.",
    ),
)

CODES: dict[str, ErrorCode] = {entry.code: entry for entry in _ENTRIES}


def describe(code: str) -> ErrorCode | None:
    """The catalogue entry of ``code``, or None for a code this version does not know."""
    return CODES.get(code)


def markdown_table() -> str:
    """The error-code table of the runbook, one row per code."""
    lines = ["| code | stage | meaning | usual cause | fix |", "|---|---|---|---|---|"]
    for entry in _ENTRIES:
        cells = (f"`{entry.code}`", entry.stage, entry.summary, entry.cause, entry.fix)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
