"""The Payout admin's release action through Django's test client, as a logged-in superuser."""

import pytest
from django.urls import reverse

from polaris.engine.tests.outgoing_fixtures import *  # noqa: F401,F403
from polaris.engine.tests.outgoing_fixtures import park_queued_payouts, received_withdrawal
from polaris.models import Payout, Transaction

pytestmark = pytest.mark.django_db(transaction=True)
S = Transaction.STATUS
CHANGELIST = reverse("admin:polaris_payout_changelist")
CONFIRMATION = "The bank has no payment for these transactions"


def release_action(client, payouts, **confirmation):
    data = {"action": "release_parked", "_selected_action": [payout.pk for payout in payouts], **confirmation}
    return client.post(CHANGELIST, data, follow=True)


def state(payout: Payout) -> str:
    return Payout.objects.values_list("state", flat=True).get(pk=payout.pk)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_release_asks_for_the_bank_confirmation_then_releases_the_parked_and_reports_the_rest(
    admin_client, offline_usd
):
    parked = received_withdrawal(offline_usd)
    park_queued_payouts()
    queued = received_withdrawal(offline_usd)
    payouts = [parked.payout, queued.payout]

    # Choosing the action only shows the confirmation page.
    response = release_action(admin_client, payouts)
    assert response.status_code == 200 and CONFIRMATION in response.content.decode()
    assert "not parked: it will not be released" in response.content.decode()
    assert state(parked.payout) == Payout.STATE.parked

    # Confirming without the box ticked shows it again and releases nothing.
    response = release_action(admin_client, payouts, post="yes")
    assert "Nothing was released" in response.content.decode()
    assert state(parked.payout) == Payout.STATE.parked

    response = release_action(admin_client, payouts, post="yes", bank_has_no_payment="on")
    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert messages_of(response) == [
        f"Released the payout of {parked.id}: queued, transaction pending_anchor",
        f"Not released: the payout of {queued.id} is queued, not parked",
    ]
    assert state(parked.payout) == Payout.STATE.queued
    assert Transaction.objects.get(id=parked.id).status == S.pending_anchor
    assert parked.status_changes.filter(to_status=S.pending_anchor, actor="admin:admin").exists()

    # The payout page shows who released it and the attempt that had parked it.
    page = admin_client.get(reverse("admin:polaris_payout_change", args=[parked.payout.pk])).content.decode()
    assert "admin:admin" in page and "bank unreachable" in page
