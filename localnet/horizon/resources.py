"""Adds Horizon's absolute `_links` to the ledger's records (only the server knows the base URL).

Records are copied, never mutated: the ledger may hand out its own dicts.
"""

PAGE_T = "{?cursor,limit,order}"


def _l(href: str, templated: bool = False) -> dict:
    return {"href": href, "templated": True} if templated else {"href": href}


def _paged(base: str, *names: str) -> dict:
    """Templated links to the paged collections ``base/<name>``, in the given order."""
    return {name: _l(f"{base}/{name}{PAGE_T}", True) for name in names}


def account(b: str, rec: dict) -> dict:
    a = f"{b}/accounts/{rec['account_id']}"
    links = {
        "self": _l(a),
        **_paged(a, "transactions", "operations", "payments", "effects", "offers", "trades"),
        "data": _l(a + "/data/{key}", True),
    }
    return {"_links": links, **rec}


def transaction(b: str, rec: dict) -> dict:
    t = f"{b}/transactions/{rec['hash']}"
    pt = rec["paging_token"]
    links = {
        "self": _l(t),
        "account": _l(f"{b}/accounts/{rec['source_account']}"),
        "ledger": _l(f"{b}/ledgers/{rec['ledger']}"),
        **_paged(t, "operations", "effects"),
        "precedes": _l(f"{b}/transactions?order=asc&cursor={pt}"),
        "succeeds": _l(f"{b}/transactions?order=desc&cursor={pt}"),
        "transaction": _l(t),
    }
    return {"_links": links, **rec}


def operation(b: str, rec: dict, tx: dict | None = None) -> dict:
    """With `tx` (join=transactions) the linked Transaction resource is embedded under "transaction"."""
    o = f"{b}/operations/{rec['id']}"
    links = {
        "self": _l(o),
        "transaction": _l(f"{b}/transactions/{rec['transaction_hash']}"),
        "effects": _l(o + "/effects"),
        "succeeds": _l(f"{b}/effects?order=desc&cursor={rec['paging_token']}"),
        "precedes": _l(f"{b}/effects?order=asc&cursor={rec['paging_token']}"),
    }
    out = {"_links": links, **rec}
    if tx is not None:
        out["transaction"] = transaction(b, tx)
    return out


def ledger(b: str, rec: dict) -> dict:
    lg = f"{b}/ledgers/{rec['sequence']}"
    links = {
        "self": _l(lg),
        **_paged(lg, "transactions", "operations", "payments", "effects"),
    }
    return {"_links": links, **rec}


def claimable_balance(b: str, rec: dict) -> dict:
    c = f"{b}/claimable_balances/{rec['id']}"
    links = {
        "self": _l(c),
        **_paged(c, "transactions", "operations"),
    }
    return {"_links": links, **rec}


def root(b: str, latest: dict, passphrase: str) -> dict:
    def t(path: str) -> dict:
        return _l(b + path, True)

    links = {
        "account": t("/accounts/{account_id}"),
        "accounts": t("/accounts{?signer,sponsor,asset,liquidity_pool,cursor,limit,order}"),
        "account_transactions": t("/accounts/{account_id}/transactions" + PAGE_T),
        "claimable_balances": t("/claimable_balances{?asset,sponsor,claimant,cursor,limit,order}"),
        "fee_stats": _l(b + "/fee_stats"),
        "friendbot": t("/friendbot{?addr}"),
        "ledger": t("/ledgers/{sequence}"),
        "ledgers": t("/ledgers" + PAGE_T),
        "operation": t("/operations/{id}"),
        "operations": t("/operations{?cursor,limit,order,include_failed}"),
        "payments": t("/payments{?cursor,limit,order,include_failed}"),
        "self": _l(b + "/"),
        "transaction": t("/transactions/{hash}"),
        "transactions": t("/transactions" + PAGE_T),
    }
    seq = latest["sequence"]
    protocol = latest.get("protocol_version", 22)
    return {
        "_links": links,
        "horizon_version": "22.0.0-localnet",
        "core_version": "localnet (a Python single-node ledger, not stellar-core)",
        "ingest_latest_ledger": seq,
        "history_latest_ledger": seq,
        "history_latest_ledger_closed_at": latest["closed_at"],
        "history_elder_ledger": 1,
        "core_latest_ledger": seq,
        "network_passphrase": passphrase,
        "current_protocol_version": protocol,
        "supported_protocol_version": protocol,
        "core_supported_protocol_version": protocol,
    }
