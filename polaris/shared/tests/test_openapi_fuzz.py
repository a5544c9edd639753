"""Schemathesis against the served /openapi.json: every documented operation, with valid and invalid
inputs and a valid SEP-10 token, must never answer a 5xx (SEP digest §14: bad input is a 4xx).

Integrations that implement every hook are registered, so the fuzzing reaches past the default
integrations' 501 answers (a deliberate "not offered", but a 5xx all the same). The examples are derandomized and bounded, so a run is the
same every time and takes well under a minute.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from polaris.integrations import (
    CustomerIntegration,
    DepositIntegration,
    WithdrawalIntegration,
    register_integrations,
    reset_integrations,
)

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES_PER_OPERATION = 40


class AcceptingTransfers(DepositIntegration, WithdrawalIntegration):
    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):
        return {"how": "Send the money to the bank account in the instructions."}

    def patch_transaction(self, token, request, params, transaction, *args, **kwargs):
        return None


class RememberingCustomers(CustomerIntegration):
    def get(self, token, request, params, *args, **kwargs):
        return {"id": "1", "status": "ACCEPTED"}

    def put(self, token, request, params, *args, **kwargs):
        return "1"

    def delete(self, token, request, account, memo, memo_type, *args, **kwargs):
        return None

    def callback(self, token, request, params, *args, **kwargs):
        return None

    def put_verification(self, token, request, account, params, *args, **kwargs):
        return {"id": "1", "status": "ACCEPTED"}


@pytest.fixture
def accepting_integrations():
    transfers = AcceptingTransfers()
    register_integrations(deposit=transfers, withdrawal=transfers, customer=RememberingCustomers())
    yield
    reset_integrations()


def test_no_documented_operation_answers_5xx(live_server, usd, wallet, accepting_integrations):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {wallet.token}"}
    server_errors = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 19  # every operation of SEP-6, SEP-12 and SEP-24

    for operation in operations:
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=cases)
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            response = case.call(base_url=live_server.url, headers=headers, timeout=10)
            if response.status_code >= 500:
                server_errors.append(f"{response.status_code} {case.as_curl_command(headers)}\n{response.text[:300]}")

        call()
    assert not server_errors, "\n\n".join(server_errors)
