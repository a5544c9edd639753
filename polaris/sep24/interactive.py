"""The hosted interactive flow (SEP-24 §interactive): the pages the wallet opens in a popup.

1. ``webapp?transaction_id=..&token=..`` redeems the one-time token into the browser session and
   redirects to itself without the token (``polaris.sep24.tokens``).
2. Each GET shows the next form: the integration's ``form_for_transaction``, else Polaris' amount form
   while the amount is unknown. A POST validates it, calls ``after_form_validation`` and saves; then
   either the next form (303 to the same page) or the end of the flow.
3. The end: an ``incomplete`` transaction moves to ``pending_user_transfer_start`` (a withdrawal also
   gets the distribution account and a unique ID memo to pay with), the wallet's ``callback`` URL is
   POSTed once, and the browser goes to the ``more_info`` page, which does ``postMessage`` when asked.

An anchor with its own web app returns its URL from ``interactive_url``; that app sends the user back to
``interactive/complete``, which calls ``after_interactive_flow`` and ends the flow the same way.
The pages are plain HTML forms: they work without JavaScript, and ``polaris.js`` only adds comforts.
"""

import uuid
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from polaris.engine.transitions import acting_as, change_status
from polaris.integrations import registered_deposit, registered_withdrawal
from polaris.models import Transaction
from polaris.sep24 import tokens
from polaris.sep24.forms import TransactionForm
from polaris.shared.assets import withdrawal_payment_fields
from polaris.shared.callbacks import post_signed_json
from polaris.shared.http import BadRequest, activate_language, callback_url_param
from polaris.shared.serializers import more_info_url, transaction_json
from polaris.templates import Template

ACTOR = "sep24-interactive"
CALLBACKS_KEY = "polaris_sep24_callbacks"
KIND_BY_PATH = {"deposit": Transaction.KIND.deposit, "withdraw": Transaction.KIND.withdrawal}


def error_page(request, message: str, status: int) -> HttpResponse:
    return render(request, "polaris/error.html", {"message": message}, status=status)


def _integration(transaction: Transaction):
    is_deposit = transaction.kind in (Transaction.KIND.deposit, Transaction.KIND.deposit_exchange)
    return registered_deposit() if is_deposit else registered_withdrawal()


def _session_transaction(request, kind: str) -> Transaction:
    """The transaction in the URL, if this browser session was given it by a one-time token."""
    transaction_id = request.GET.get("transaction_id", "")
    if not tokens.session_allows(request.session, transaction_id):
        raise PermissionError("This page needs the link from your wallet. Please start again from your wallet.")
    try:
        return Transaction.objects.select_related("asset").get(
            id=uuid.UUID(transaction_id), kind=KIND_BY_PATH[kind], protocol=Transaction.PROTOCOL.sep24
        )
    except (Transaction.DoesNotExist, ValueError):
        raise Http404 from None


def _remember_callbacks(request, transaction: Transaction) -> None:
    """Keep the wallet's ``callback`` for the end of the flow; store ``on_change_callback`` on the transaction."""
    params = request.GET
    callback = callback_url_param(params, "callback", allow_post_message=True)
    if callback:
        request.session[CALLBACKS_KEY] = {**request.session.get(CALLBACKS_KEY, {}), str(transaction.id): callback}
    on_change = callback_url_param(params, "on_change_callback", allow_post_message=True)
    if on_change and on_change != transaction.on_change_callback:
        transaction.on_change_callback = on_change
        transaction.save(update_fields=["on_change_callback"])


def _next_form(integration, request, transaction: Transaction, post_data=None):
    form = integration.form_for_transaction(request, transaction, post_data=post_data, amount=transaction.amount_expected)
    if form is None and transaction.amount_in is None:
        form = TransactionForm(transaction, data=post_data)
    return form


def _page_context(integration, request, transaction: Transaction, form) -> tuple[str, dict]:
    template = Template.DEPOSIT if transaction.kind == Transaction.KIND.deposit else Template.WITHDRAW
    content = integration.content_for_template(request, template, form=form, transaction=transaction) or {}
    asset = transaction.asset
    context = {
        "fee_text": _fee_text(transaction),
        "form": form,
        "transaction": transaction,
        "asset": asset,
        "symbol": asset.symbol,
        "operation": "deposit" if transaction.kind == Transaction.KIND.deposit else "withdraw",
        **content,
    }
    return content.get("template_name", template.value), context


def _fee_text(transaction: Transaction) -> str:
    asset = transaction.asset
    prefix = "deposit" if transaction.kind == Transaction.KIND.deposit else "withdrawal"
    fixed, percent = getattr(asset, f"{prefix}_fee_fixed"), getattr(asset, f"{prefix}_fee_percent")
    parts = []
    if fixed:
        parts.append(f"{fixed.normalize():f} {asset.code}")
    if percent:
        parts.append(_("%(percent)s%% of the amount") % {"percent": f"{percent.normalize():f}"})
    return _("Fee: %(fee)s.") % {"fee": " + ".join(parts)} if parts else ""


def _finish(request, transaction: Transaction) -> HttpResponse:
    """End the flow: move on from ``incomplete``, give a withdrawal its payment details, call back once."""
    is_withdrawal = transaction.kind == Transaction.KIND.withdrawal
    try:
        with acting_as(ACTOR):
            if transaction.status == Transaction.STATUS.incomplete:
                fields = withdrawal_payment_fields(transaction) if is_withdrawal else {}
                change_status(transaction, Transaction.STATUS.pending_user_transfer_start, actor=ACTOR, **fields)
            elif is_withdrawal and transaction.status == Transaction.STATUS.pending_user_transfer_start:
                fields = withdrawal_payment_fields(transaction)
                if fields:
                    for name, value in fields.items():
                        setattr(transaction, name, value)
                    transaction.save()
    except BadRequest as error:
        return error_page(request, str(error), error.status)

    callback = request.session.get(CALLBACKS_KEY, {}).pop(str(transaction.id), None)
    request.session.modified = True
    if callback and callback != "postMessage":
        post_signed_json(callback, {"transaction": transaction_json(transaction)})
    url = more_info_url(transaction)
    if callback == "postMessage":
        url += ("&" if "?" in url else "?") + urlencode({"callback": "postMessage"})
    return redirect(url)


@xframe_options_exempt
@csrf_protect
@require_http_methods(["GET", "POST"])
def webapp(request, kind: str):
    activate_language(request.GET.get("lang"))
    token = request.GET.get("token")
    if token:
        try:
            tokens.redeem(token, request.GET.get("transaction_id", ""))
        except tokens.InteractiveTokenError as error:
            return error_page(request, str(error), 403)
        tokens.authorize_session(request.session, request.GET["transaction_id"])
        query = request.GET.copy()
        del query["token"]
        return redirect(f"{request.path}?{query.urlencode()}")
    try:
        transaction = _session_transaction(request, kind)
        _remember_callbacks(request, transaction)
    except PermissionError as error:
        return error_page(request, str(error), 403)
    except BadRequest as error:
        return error_page(request, str(error), error.status)
    if transaction.status != Transaction.STATUS.incomplete:
        return redirect(more_info_url(transaction))

    integration = _integration(transaction)
    if request.method == "GET":
        external = integration.interactive_url(
            request,
            transaction,
            transaction.asset,
            transaction.amount_expected,
            request.GET.get("callback"),
            request.GET.get("lang"),
        )
        if external:
            return redirect(external)

    posted = request.POST if request.method == "POST" else None
    form = _next_form(integration, request, transaction, post_data=posted)
    if form is None:
        return _finish(request, transaction)
    status = 200
    if posted is not None:
        if form.is_valid():
            if isinstance(form, TransactionForm):
                form.apply()
            with acting_as(ACTOR):
                integration.after_form_validation(request, form, transaction)
                transaction.save()
            if transaction.status != Transaction.STATUS.incomplete or _next_form(integration, request, transaction) is None:
                return _finish(request, transaction)
            return _see_other(request.get_full_path())
        status = 400
    template_name, context = _page_context(integration, request, transaction, form)
    return render(request, template_name, context, status=status)


def _see_other(url: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


@xframe_options_exempt
@require_GET
def complete(request, kind: str):
    """Where an anchor's own interactive app sends the user back: ``after_interactive_flow``, then the end."""
    try:
        transaction = _session_transaction(request, kind)
    except PermissionError as error:
        return error_page(request, str(error), 403)
    if transaction.status == Transaction.STATUS.incomplete:
        with acting_as(ACTOR):
            _integration(transaction).after_interactive_flow(request, transaction)
    return _finish(request, transaction)


@xframe_options_exempt
@require_GET
def more_info(request):
    """The public status page of a transaction (its ``more_info_url``): no auth, 200 text/html."""
    activate_language(request.GET.get("lang"))
    try:
        transaction = Transaction.objects.select_related("asset").get(id=uuid.UUID(request.GET.get("id", "")))
    except (Transaction.DoesNotExist, ValueError):
        return error_page(request, "There is no such transaction.", 404)
    integration = _integration(transaction)
    content = integration.content_for_template(request, Template.MORE_INFO, transaction=transaction) or {}
    body = {"transaction": transaction_json(transaction)}
    context = {
        "transaction": transaction,
        "asset": transaction.asset,
        "transaction_body": body,
        "instructions": transaction.instructions or {},
        "post_message": request.GET.get("callback") == "postMessage",
        **content,
    }
    return render(request, content.get("template_name", Template.MORE_INFO.value), context)
