"""SEP-9 standard KYC field names (v1.18): the only keys SEP-12 and the SEP-24 pre-fill pass on as KYC data."""

NATURAL_PERSON = (
    "family_name last_name given_name first_name additional_name address_country_code state_or_province city "
    "postal_code address mobile_number mobile_number_format email_address birth_date birth_place "
    "birth_country_code tax_id tax_id_name occupation employer_name employer_address language_code id_type "
    "id_country_code id_issue_date id_expiration_date id_number photo_id_front photo_id_back "
    "notary_approval_of_photo_id ip_address photo_proof_residence sex proof_of_income proof_of_liveness "
    "referral_id"
).split()

FINANCIAL_ACCOUNT = (
    "bank_name bank_account_type bank_account_number bank_number bank_phone_number bank_branch_number "
    "external_transfer_memo clabe_number cbu_number cbu_alias mobile_money_number mobile_money_provider "
    "crypto_address crypto_memo"
).split()

ORGANIZATION = [
    f"organization.{name}"
    for name in (
        "name VAT_number registration_number registration_date registered_address number_of_shareholders "
        "shareholder_name photo_incorporation_doc photo_proof_address address_country_code state_or_province "
        "city postal_code director_name website email phone"
    ).split()
]

CARD = [
    f"card.{name}"
    for name in "number expiration_date cvc holder_name network postal_code country_code state_or_province city "
    "address token".split()
]

BINARY_FIELDS = frozenset(
    "photo_id_front photo_id_back notary_approval_of_photo_id photo_proof_residence proof_of_income "
    "proof_of_liveness organization.photo_incorporation_doc organization.photo_proof_address".split()
)

SEP9_FIELDS = frozenset(
    NATURAL_PERSON + FINANCIAL_ACCOUNT + ORGANIZATION + CARD + [f"organization.{name}" for name in FINANCIAL_ACCOUNT]
)


def is_sep9_field(name: str) -> bool:
    """A SEP-9 field, its ``<field>_verification`` code or its ``<field>_file_id`` reference."""
    for suffix in ("_verification", "_file_id"):
        if name.endswith(suffix) and name[: -len(suffix)] in SEP9_FIELDS:
            return True
    return name in SEP9_FIELDS


def sep9_fields(params: dict) -> dict:
    return {name: value for name, value in params.items() if is_sep9_field(name)}
