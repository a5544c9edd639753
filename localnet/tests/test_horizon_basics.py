"""The Horizon surface a client sees first: root, friendbot, accounts, headers, paging and problem+json."""

import gc

import requests
from stellar_sdk import Keypair
from stellar_sdk.exceptions import BadRequestError, NotFoundError

from localnet.__main__ import tune_gc

PROBLEM = "https://stellar.org/horizon-errors/"


def test_root_describes_the_network(server, localnet):
    root = server.root().call()
    assert root["network_passphrase"] == localnet.passphrase
    assert root["history_latest_ledger"] >= 1
    assert root["_links"]["self"]["href"] == f"{localnet.url}/"
    assert root["_links"]["account"] == {"href": f"{localnet.url}/accounts/{{account_id}}", "templated": True}


def test_friendbot_funds_ten_thousand_lumens_once(server, localnet):
    kp = Keypair.random()
    resp = requests.get(f"{localnet.url}/friendbot", params={"addr": kp.public_key}, timeout=30)
    assert resp.status_code == 200
    tx = resp.json()
    assert tx["successful"] is True and tx["source_account"] == localnet.root
    account = server.accounts().account_id(kp.public_key).call()
    assert account["balances"] == [
        {"balance": "10000.0000000", "buying_liabilities": "0.0000000", "selling_liabilities": "0.0000000",
         "asset_type": "native"}
    ]  # fmt: skip
    again = requests.post(f"{localnet.url}/friendbot", params={"addr": kp.public_key}, timeout=30)
    assert again.status_code == 400 and again.json()["type"] == PROBLEM + "bad_request"
    bad = requests.get(f"{localnet.url}/friendbot", params={"addr": "GNOPE"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["extras"]["invalid_field"] == "addr"


def test_account_shape_and_headers(server, localnet, funded):
    kp = funded()
    resp = requests.get(f"{localnet.url}/accounts/{kp.public_key}", timeout=10)
    assert resp.headers["Content-Type"] == "application/hal+json; charset=utf-8"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Latest-Ledger" in resp.headers["Access-Control-Expose-Headers"]
    assert int(resp.headers["Latest-Ledger"]) >= 1 and resp.headers["Date"]
    account = resp.json()
    assert isinstance(account["sequence"], str) and account["data"] == {}
    assert account["_links"]["data"] == {"href": f"{localnet.url}/accounts/{kp.public_key}/data/{{key}}", "templated": True}
    assert account["signers"] == [{"weight": 1, "key": kp.public_key, "type": "ed25519_public_key"}]
    assert server.load_account(kp).sequence == int(account["sequence"])
    try:
        server.accounts().account_id(Keypair.random().public_key).call()
        raise AssertionError("expected 404")
    except NotFoundError as e:
        assert e.status == 404 and e.type == PROBLEM + "not_found"


def test_manage_data_is_served_base64_and_raw(server, localnet, funded, build):
    kp = funded()
    server.submit_transaction(build(kp, lambda b: b.append_manage_data_op("config.memo_required", b"1")))
    assert server.accounts().account_id(kp.public_key).call()["data"] == {"config.memo_required": "MQ=="}
    assert server.data(kp.public_key, "config.memo_required").call() == {"value": "MQ=="}
    raw = requests.get(
        f"{localnet.url}/accounts/{kp.public_key}/data/config.memo_required",
        headers={"Accept": "application/octet-stream"},
        timeout=10,
    )
    assert raw.content == b"1"


def test_fee_stats_and_base_fee(server):
    assert server.fetch_base_fee() == 100
    stats = server.fee_stats().call()
    assert stats["max_fee"]["mode"].isdigit() and stats["last_ledger_base_fee"] == "100"


def test_paging_follows_absolute_links(server, localnet):
    first = server.ledgers().limit(2).order(desc=False).call()
    records = first["_embedded"]["records"]
    assert [r["sequence"] for r in records] == [1, 2]
    assert first["_links"]["next"]["href"].startswith(localnet.url + "/ledgers?")
    builder = server.ledgers().limit(2).order(desc=False)
    builder.call()
    nxt = builder.next()
    assert [r["sequence"] for r in nxt["_embedded"]["records"]] == [3, 4]
    prev = builder.prev()
    assert [r["sequence"] for r in prev["_embedded"]["records"]] == [2, 1]


def test_desc_paging_and_ledger_lookup(server):
    latest = server.ledgers().order(desc=True).limit(1).call()["_embedded"]["records"][0]
    one = server.ledgers().ledger(latest["sequence"]).call()
    assert one["hash"] == latest["hash"] and one["paging_token"] == str(latest["sequence"] << 32)
    try:
        server.ledgers().ledger(latest["sequence"] + 10_000).call()
        raise AssertionError("expected 404")
    except NotFoundError:
        pass


def _problem(resp, status, slug, field=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json; charset=utf-8"
    body = resp.json()
    assert body["type"] == PROBLEM + slug and body["status"] == status
    if field:
        assert body["extras"]["invalid_field"] == field
    return body


def test_bad_input_gets_problem_json_never_500(localnet):
    u = localnet.url
    get = lambda path, **kw: requests.get(u + path, timeout=10, **kw)  # noqa: E731
    _problem(get("/ledgers?limit=0"), 400, "bad_request", "limit")
    _problem(get("/ledgers?limit=201"), 400, "bad_request", "limit")
    _problem(get("/ledgers?order=up"), 400, "bad_request", "order")
    _problem(get("/ledgers?cursor=abc"), 400, "bad_request", "cursor")
    _problem(get("/payments?include_failed=maybe"), 400, "bad_request", "include_failed")
    _problem(get("/payments?join=ledgers"), 400, "bad_request", "join")
    _problem(get("/accounts/GNOTANACCOUNT"), 400, "bad_request", "account_id")
    _problem(get("/accounts/GNOTANACCOUNT/payments"), 400, "bad_request", "account_id")
    _problem(get("/transactions/xyz"), 400, "bad_request", "tx_id")
    _problem(get("/transactions/" + "ab" * 32), 404, "not_found")
    _problem(get("/ledgers/-1"), 400, "bad_request", "ledger_id")
    _problem(get("/operations/nope"), 400, "bad_request", "id")
    _problem(get("/claimable_balances/nothex"), 400, "bad_request")
    _problem(get("/claimable_balances?asset=USD"), 400, "bad_request", "asset")
    _problem(get("/claimable_balances?claimant=GBAD"), 400, "bad_request", "claimant")
    _problem(get("/no/such/route"), 404, "not_found")
    _problem(requests.delete(u + "/ledgers", timeout=10), 404, "not_found")
    _problem(requests.post(u + "/transactions", json={"tx": "x"}, timeout=10), 415, "unsupported_media_type")
    _problem(requests.post(u + "/transactions", data={"nottx": "x"}, timeout=10), 400, "bad_request", "tx")
    body = _problem(requests.post(u + "/transactions", data={"tx": "AAAA"}, timeout=10), 400, "transaction_malformed")
    assert body["extras"]["envelope_xdr"] == "AAAA"
    _problem(requests.post(u + "/transactions_async", data={"tx": "!!"}, timeout=10), 400, "transaction_malformed")
    # Unknown query parameters (the SDK's X-Client-* ones) are ignored.
    assert get("/ledgers?X-Client-Name=py&foo=bar").status_code == 200


def test_sdk_raises_bad_request_with_extras(server):
    try:
        server.ledgers().limit(500).call()
        raise AssertionError("expected 400")
    except BadRequestError as e:
        assert e.extras["invalid_field"] == "limit"


def test_tune_gc_freezes_startup_objects_and_raises_the_young_threshold():
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold()[0] == 50_000 and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
