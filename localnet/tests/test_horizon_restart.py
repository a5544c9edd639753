"""A process with --data-dir keeps its ledger across restarts; one without --faults has no fault endpoint."""

import time

import requests
from stellar_sdk import Keypair, Network, Server, TransactionBuilder

from localnet.testing import start


def test_restart_keeps_balances_and_continues_the_ledger_sequence(tmp_path):
    passphrase = "Test SDF Network ; September 2015"
    net = start(close_interval=0.1, data_dir=str(tmp_path), passphrase=passphrase)
    try:
        dest = Keypair.random()
        with Server(net.url) as server:
            root = server.load_account(net.root_keypair)
            tx = (
                TransactionBuilder(root, passphrase, 100)
                .append_create_account_op(dest.public_key, "123.4567890")
                .set_timeout(30)
                .build()
            )
            tx.sign(net.root_keypair)
            applied = server.submit_transaction(tx)
            time.sleep(0.5)  # a few empty ledgers close too
            before = server.ledgers().order(desc=True).limit(1).call()["_embedded"]["records"][0]
        assert requests.get(f"{net.url}/_localnet/faults", timeout=10).status_code == 404
    finally:
        assert net.stop() == 0
    net = start(close_interval=0.1, data_dir=str(tmp_path), passphrase=passphrase)
    try:
        with Server(net.url) as server:
            account = server.accounts().account_id(dest.public_key).call()
            assert account["balances"][-1]["balance"] == "123.4567890"
            assert server.transactions().transaction(applied["hash"]).call()["ledger"] == applied["ledger"]
            assert server.ledgers().ledger(before["sequence"]).call()["hash"] == before["hash"]
            time.sleep(0.5)
            after = server.ledgers().order(desc=True).limit(1).call()["_embedded"]["records"][0]
            assert after["sequence"] > before["sequence"]
            assert server.ledgers().ledger(before["sequence"] + 1).call()["prev_hash"] == before["hash"]
            assert server.root().call()["network_passphrase"] == Network.TESTNET_NETWORK_PASSPHRASE
    finally:
        net.stop()
