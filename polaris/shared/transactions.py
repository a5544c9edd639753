"""GET /transactions and GET /transaction, shared by SEP-6 and SEP-24, and whose transaction is whose.

A transaction belongs to exactly one (account, memo, muxed account) triple from the SEP-10 token: a
token for ``G...:1`` never sees ``G...:2``'s transactions nor the plain ``G...``'s, and the reverse.
Lookups of another owner's transaction answer 404, exactly as an unknown id does.
"""

import uuid
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import JsonResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from polaris.models import Asset, Transaction
from polaris.sep10.auth import SEP10Token, requires_sep10_token
from polaris.shared.http import BadRequest, NotFound, activate_language, allow_methods, handles_errors, string_param
from polaris.shared.serializers import transaction_json


def owned_by(token: SEP10Token) -> Q:
    """The filter for the transactions of the token's exact (account, memo, muxed account)."""
    return Q(
        stellar_account=token.account,
        account_memo=token.memo,
        muxed_account=token.muxed_account,
    )


def owned_transactions(token: SEP10Token, protocol: str) -> QuerySet:
    return Transaction.objects.filter(owned_by(token), protocol=protocol).select_related("asset")


def owner_fields(token: SEP10Token) -> dict:
    """The fields that make a new transaction the token's."""
    return {
        "stellar_account": token.account,
        "account_memo": token.memo,
        "muxed_account": token.muxed_account,
        "client_domain": token.client_domain,
    }


def _no_older_than(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value.replace(" ", "+"))  # a '+' in a query string arrives as a space
    if parsed is None:
        raise BadRequest("'no_older_than' must be an ISO 8601 date-time")
    if parsed.tzinfo is None:
        raise BadRequest("'no_older_than' must carry a timezone (e.g. 2024-01-01T00:00:00Z)")
    return parsed


def list_transactions(request, token: SEP10Token, protocol: str, kinds: tuple[str, ...]) -> JsonResponse:
    """``{"transactions": [...]}``: newest first, filtered by asset_code, kind, no_older_than, paging_id, limit."""
    params = request.GET
    activate_language(params.get("lang"))
    asset_code = string_param(params, "asset_code", required=True)
    enabled = {"sep6": "sep6_enabled", "sep24": "sep24_enabled"}[protocol]
    if not Asset.objects.filter(code=asset_code, **{enabled: True}).exists():
        raise BadRequest(f"unknown asset_code {asset_code!r}")
    queryset = owned_transactions(token, protocol).filter(asset__code=asset_code)

    requested_kinds = [kind for kind in params.getlist("kind") if kind]
    unknown = sorted(set(requested_kinds) - set(kinds))
    if unknown:
        raise BadRequest(f"'kind' must be one of {', '.join(kinds)}; got {', '.join(unknown)}")
    if requested_kinds:
        queryset = queryset.filter(kind__in=requested_kinds)

    no_older_than = _no_older_than(string_param(params, "no_older_than"))
    if no_older_than is not None:
        queryset = queryset.filter(started_at__gte=no_older_than)

    paging_id = string_param(params, "paging_id")
    if paging_id is not None:
        anchor = _by_id(owned_transactions(token, protocol), paging_id, "paging_id")
        queryset = queryset.filter(
            Q(started_at__lt=anchor.started_at) | Q(started_at=anchor.started_at, id__lt=anchor.id)
        )

    queryset = queryset.order_by("-started_at", "-id")
    limit = string_param(params, "limit")
    if limit is not None:
        if not limit.isdigit() or int(limit) < 1:
            raise BadRequest("'limit' must be a positive integer")
        queryset = queryset[: int(limit)]
    return JsonResponse({"transactions": [transaction_json(t, protocol=protocol) for t in queryset]})


def _by_id(queryset: QuerySet, value: str, name: str) -> Transaction:
    try:
        return queryset.get(id=uuid.UUID(value))
    except (ValueError, Transaction.DoesNotExist):
        raise NotFound(f"no transaction with {name} {value!r}") from None


def find_transaction(request, token: SEP10Token, protocol: str) -> Transaction:
    """The token's transaction named by ``id``, ``stellar_transaction_id`` or ``external_transaction_id``."""
    params = request.GET
    queryset = owned_transactions(token, protocol)
    for name in ("id", "stellar_transaction_id", "external_transaction_id"):
        value = string_param(params, name)
        if value is None:
            continue
        if name == "id":
            return _by_id(queryset, value, name)
        found = queryset.filter(**{name: value}).order_by("-started_at").first()
        if found is None:
            raise NotFound(f"no transaction with {name} {value!r}")
        return found
    raise BadRequest("one of 'id', 'stellar_transaction_id' or 'external_transaction_id' is required")


def get_transaction(request, token: SEP10Token, protocol: str) -> JsonResponse:
    activate_language(request.GET.get("lang"))
    transaction = find_transaction(request, token, protocol)
    return JsonResponse({"transaction": transaction_json(transaction, protocol=protocol)})


def transaction_views(protocol: str, kinds: tuple[str, ...], check_list_params=None):
    """The ``GET /transactions`` and ``GET /transaction`` views of one protocol.

    ``check_list_params(params, token)``, when given, runs first on ``/transactions`` and may raise ``BadRequest``.
    """

    @csrf_exempt
    @allow_methods("GET")
    @requires_sep10_token
    @handles_errors
    def transactions(request, token: SEP10Token):
        if check_list_params is not None:
            check_list_params(request.GET, token)
        return list_transactions(request, token, protocol, kinds)

    @csrf_exempt
    @allow_methods("GET")
    @requires_sep10_token
    @handles_errors
    def transaction(request, token: SEP10Token):
        return get_transaction(request, token, protocol)

    return transactions, transaction
