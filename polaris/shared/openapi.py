"""The OpenAPI 3.1 document of the SEP-6, SEP-12 and SEP-24 JSON endpoints, served at ``/openapi.json``.

Built from the active SEPs and HOST_URL, so it describes exactly what this server mounts. The HTML
interactive pages are not in it: they are for browsers, not API clients.
"""

from django.http import JsonResponse

from polaris.conf import settings
from polaris.urls import SEP_PATHS

ERROR = {"$ref": "#/components/schemas/Error"}
AUTH = [{"sep10": []}]


def _param(name: str, required: bool = False, where: str = "query", schema: dict | None = None, **extra) -> dict:
    return {"name": name, "in": where, "required": required, "schema": schema or {"type": "string"}, **extra}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int, auth: str | None = None) -> dict:
    responses = {str(code): _json(ERROR, "Error") for code in codes}
    if auth == "type":
        responses["403"] = _json({"$ref": "#/components/schemas/AuthenticationRequired"}, "No valid SEP-10 token")
    elif auth == "error":
        responses["401"] = _json(ERROR, "No valid SEP-10 token")
    return responses


def _body(properties: dict, required: tuple = ()) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required), "additionalProperties": True}
    return {
        "required": True,
        "content": {
            media: {"schema": schema}
            for media in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")
        },
    }


STRING = {"type": "string"}
ASSET_INFO = {"type": "object", "additionalProperties": {"type": "object", "required": ["enabled"]}}
TRANSACTIONS = {"type": "object", "required": ["transactions"],
                "properties": {"transactions": {"type": "array", "items": {"$ref": "#/components/schemas/Transaction"}}}}
ONE_TRANSACTION = {"type": "object", "required": ["transaction"],
                   "properties": {"transaction": {"$ref": "#/components/schemas/Transaction"}}}
LOOKUP = [_param("id"), _param("stellar_transaction_id"), _param("external_transaction_id"), _param("lang")]
FEE = {
    "get": {
        "summary": "Fee for an amount (deprecated by SEP-38)",
        "parameters": [_param("operation", True, schema={"type": "string", "enum": ["deposit", "withdraw"]}),
                       _param("asset_code", True), _param("amount", True), _param("type")],
        "responses": {"200": _json({"type": "object", "required": ["fee"], "properties": {"fee": {"type": "number"}}}),
                      **_errors(400)},
    }
}


def _history(kinds: list[str], with_account: bool) -> dict:
    parameters = [_param("asset_code", True), _param("no_older_than", schema={"type": "string", "format": "date-time"}),
                  _param("limit", schema={"type": "integer", "minimum": 1}),
                  _param("kind", schema={"type": "array", "items": {"type": "string", "enum": kinds}}, explode=True),
                  _param("paging_id"), _param("lang")]
    if with_account:
        parameters.append(_param("account"))
    return {"get": {"summary": "The token's transactions, newest first", "security": AUTH, "parameters": parameters,
                    "responses": {"200": _json(TRANSACTIONS), **_errors(400, 404, auth="type")}}}


def _single() -> dict:
    return {"get": {"summary": "One of the token's transactions", "security": AUTH, "parameters": LOOKUP,
                    "responses": {"200": _json(ONE_TRANSACTION), **_errors(400, 404, auth="type")}}}


def _sep24_paths() -> dict:
    interactive = _json({"type": "object", "required": ["type", "url", "id"], "additionalProperties": False,
                         "properties": {"type": {"const": "interactive_customer_info_needed"},
                                        "url": {"type": "string", "format": "uri"}, "id": STRING}})
    start = {"asset_code": STRING, "asset_issuer": STRING, "amount": STRING, "account": STRING, "memo": STRING,
             "memo_type": {"type": "string", "enum": ["id", "text", "hash"]}, "lang": STRING,
             "claimable_balance_supported": {"type": ["boolean", "string"]}, "on_change_callback": STRING,
             "refund_memo": STRING, "refund_memo_type": STRING, "quote_id": STRING}

    def post(summary: str) -> dict:
        return {"post": {"summary": summary, "security": AUTH, "requestBody": _body(start, ("asset_code",)),
                         "responses": {"200": interactive, **_errors(400, auth="type")}}}

    return {
        "/info": {"get": {"summary": "Assets, limits and fees", "parameters": [_param("lang")],
                          "responses": {"200": _json({"type": "object", "required": ["deposit", "withdraw", "fee"],
                                                      "properties": {"deposit": ASSET_INFO, "withdraw": ASSET_INFO}})}}},
        "/fee": FEE,
        "/transactions/deposit/interactive": post("Start a deposit; answers the interactive URL"),
        "/transactions/withdraw/interactive": post("Start a withdrawal; answers the interactive URL"),
        "/transactions": _history(["deposit", "withdrawal"], with_account=False),
        "/transaction": _single(),
    }


def _sep6_paths() -> dict:
    common = [_param("asset_code", True), _param("amount"), _param("lang"), _param("on_change_callback"),
              _param("funding_method"), _param("type"), _param("country_code"), _param("customer_id")]
    kyc = _json({"type": "object", "required": ["type"], "properties": {"type": STRING}}, "Customer information needed")
    deposit_ok = _json({"type": "object", "required": ["id", "how"],
                        "properties": {"id": STRING, "how": STRING, "instructions": {"type": "object"}}})
    withdraw_ok = _json({"type": "object", "required": ["id"],
                         "properties": {"id": STRING, "account_id": STRING, "memo": STRING, "memo_type": STRING}})
    exchange = [_param("source_asset", True), _param("destination_asset", True), _param("amount", True),
                _param("quote_id"), _param("account"), _param("memo"), _param("memo_type"), _param("lang")]

    def get(summary: str, parameters: list, ok: dict) -> dict:
        return {"get": {"summary": summary, "security": AUTH, "parameters": parameters,
                        "responses": {"200": ok, "403": kyc, **_errors(400, 501)}}}

    return {
        "/info": {"get": {"summary": "Assets, limits, fees and features", "parameters": [_param("lang")],
                          "responses": {"200": _json({"type": "object",
                                                      "required": ["deposit", "withdraw", "fee", "transaction", "transactions"]})}}},
        "/fee": FEE,
        "/deposit": get("Start a deposit", [*common, _param("account", True), _param("memo"), _param("memo_type"),
                                            _param("claimable_balance_supported")], deposit_ok),
        "/withdraw": get("Start a withdrawal", [*common, _param("account"), _param("refund_memo"),
                                                _param("refund_memo_type")], withdraw_ok),
        "/deposit-exchange": get("Start a deposit with a SEP-38 exchange", exchange, deposit_ok),
        "/withdraw-exchange": get("Start a withdrawal with a SEP-38 exchange", exchange, withdraw_ok),
        "/transactions": _history(["deposit", "deposit-exchange", "withdrawal", "withdrawal-exchange"], with_account=True),
        "/transaction": _single(),
        "/transactions/{id}": {"patch": {
            "summary": "Send the fields asked for in required_info_updates", "security": AUTH,
            "parameters": [_param("id", True, "path")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["transaction"], "properties": {"transaction": {"type": "object"}}}}}},
            "responses": {"200": _json(ONE_TRANSACTION), **_errors(400, 404, 501, auth="type")}}},
    }


def _sep12_paths() -> dict:
    identity = [_param("id"), _param("account"), _param("memo"), _param("memo_type"), _param("type"),
                _param("transaction_id")]
    customer = _json({"$ref": "#/components/schemas/Customer"})
    put_body = _body({name: STRING for name in ("id", "account", "memo", "memo_type", "type", "transaction_id",
                                                 "first_name", "last_name", "email_address")})
    return {
        "/customer": {
            "get": {"summary": "The customer's KYC status and the fields needed", "security": AUTH,
                    "parameters": [*identity, _param("lang")],
                    "responses": {"200": customer, **_errors(400, 403, 404, 501, auth="error")}},
            "put": {"summary": "Send KYC fields (SEP-9 names; files in multipart)", "security": AUTH, "requestBody": put_body,
                    "responses": {"202": _json({"type": "object", "required": ["id"], "properties": {"id": STRING}}),
                                  **_errors(400, 403, 404, 501, auth="error")}},
        },
        "/customer/callback": {"put": {
            "summary": "Where to POST the customer when its status changes", "security": AUTH,
            "requestBody": _body({"url": STRING, "id": STRING, "memo": STRING}, ("url",)),
            "responses": {"200": _json({"type": "object"}), **_errors(400, 403, 404, 501, auth="error")}}},
        "/customer/verification": {"put": {
            "summary": "Verification codes (deprecated: send <field>_verification with PUT /customer)", "security": AUTH,
            "requestBody": _body({"id": STRING, "mobile_number_verification": STRING}, ("id",)),
            "responses": {"200": customer, **_errors(400, 403, 404, 501, auth="error")}}},
        "/customer/{account}": {"delete": {
            "summary": "Forget the customer", "security": AUTH, "parameters": [_param("account", True, "path")],
            "responses": {"200": _json({"type": "object"}), **_errors(400, 403, 404, 501, auth="error")}}},
    }


TRANSACTION_SCHEMA = {
    "type": "object",
    "required": ["id", "status", "started_at"],
    "properties": {
        "id": STRING, "kind": STRING, "status": STRING, "more_info_url": {"type": ["string", "null"]},
        "amount_in": {"type": ["string", "null"]}, "amount_out": {"type": ["string", "null"]},
        "amount_fee": {"type": ["string", "null"]}, "fee_details": {"type": ["object", "null"]},
        "started_at": {"type": "string", "format": "date-time"},
        "completed_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def document() -> dict:
    paths = {}
    for sep, build in (("sep-6", _sep6_paths), ("sep-12", _sep12_paths), ("sep-24", _sep24_paths)):
        if sep in settings.ACTIVE_SEPS:
            prefix = "/" + SEP_PATHS[sep].rstrip("/")
            paths.update({prefix + path: item for path, item in build().items()})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Polaris anchor: SEP-6, SEP-12 and SEP-24", "version": "1.0.0"},
        "servers": [{"url": settings.HOST_URL}],
        "paths": paths,
        "components": {
            "securitySchemes": {"sep10": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT from SEP-10 /auth"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": STRING}},
                "AuthenticationRequired": {"type": "object", "required": ["type"],
                                           "properties": {"type": {"const": "authentication_required"}}},
                "Transaction": TRANSACTION_SCHEMA,
                "Customer": {"type": "object", "required": ["status"], "properties": {
                    "id": STRING, "status": {"enum": ["ACCEPTED", "PROCESSING", "NEEDS_INFO", "REJECTED"]},
                    "fields": {"type": "object"}, "provided_fields": {"type": "object"}, "message": STRING}},
            },
        },
    }


def openapi_json(request):
    response = JsonResponse(document())
    response["Access-Control-Allow-Origin"] = "*"
    return response
