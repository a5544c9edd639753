"""The scripted wallet (examples/wallet.py) against the demo anchor run as `make demo` runs it: localnet, the
sandbox bank, the anchor's web server and its four workers, all real processes talking HTTP.

Each flow must end `completed` with the money where it belongs, moved exactly once: one Stellar payment
and one bank transfer or payment per transaction. The processes and checks are in examples/tests/stack.py.
"""

import pytest
import requests

from examples import wallet as w
from examples.tests.stack import check_deposit, check_withdrawal, new_wallet


@pytest.mark.parametrize("sep", ["24", "6"])
def test_deposit_then_withdrawal_each_move_the_money_once(stack, sep):
    wallet = new_wallet(stack)
    bank_account = w.bank_customer(stack.bank, cash="25")
    try:
        done = w.deposit(wallet, stack.bank, "25", sep, bank_account)
        check_deposit(stack, wallet, done, bank_account, "25")
        done = w.withdraw(wallet, stack.bank, "25", sep, bank_account)
        check_withdrawal(stack, wallet, done, bank_account, "25")
    except Exception:
        print(stack.log_tail())
        raise


def test_withdrawal_form_refuses_an_account_the_bank_does_not_have(stack):
    wallet = new_wallet(stack)
    started = w.start_sep24(wallet, "withdraw", "5")
    with pytest.raises(RuntimeError, match="The sandbox bank has no account 'acc_nope'"):
        w.complete_interactive(started["url"], {"amount": "5", "bank_account": "acc_nope"})
    assert w.transaction(wallet, "24", started["id"])["status"] == "incomplete"


def test_sep6_asks_for_kyc_first_and_a_known_bank_account(stack):
    wallet = new_wallet(stack)
    response = requests.get(f"{wallet.toml['TRANSFER_SERVER']}/withdraw", headers=wallet.auth, timeout=10,
                            params={"asset_code": wallet.asset.code, "amount": "5", "dest": "acc_nope"})  # fmt: skip
    assert response.status_code == 403
    assert response.json() == {"type": "non_interactive_customer_info_needed",
                               "fields": ["first_name", "last_name", "email_address"]}  # fmt: skip
    w.put_customer(wallet)
    response = requests.get(f"{wallet.toml['TRANSFER_SERVER']}/withdraw", headers=wallet.auth, timeout=10,
                            params={"asset_code": wallet.asset.code, "amount": "5", "dest": "acc_nope"})  # fmt: skip
    assert response.status_code == 400 and "no account 'acc_nope'" in response.json()["error"]


def test_sep12_customer_can_be_deleted_and_then_needs_info_again(stack):
    wallet = new_wallet(stack)
    kyc_server = wallet.toml["KYC_SERVER"]
    customer_id = w.put_customer(wallet)
    assert wallet.call("GET", f"{kyc_server}/customer", params={"id": customer_id})["status"] == "ACCEPTED"
    assert wallet.call("DELETE", f"{kyc_server}/customer/{wallet.account}") == {}
    assert wallet.call("GET", f"{kyc_server}/customer")["status"] == "NEEDS_INFO"
    response = requests.get(f"{kyc_server}/customer", params={"id": customer_id}, headers=wallet.auth, timeout=10)
    assert response.status_code == 404
