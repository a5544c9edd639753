"""The OpenAPI document describes the mounted endpoints: every path and method in it is routed here."""

import pytest

pytestmark = pytest.mark.django_db


def test_every_documented_operation_is_routed(client, usd):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    assert document["openapi"].startswith("3.") and len(document["paths"]) == 19
    for path, item in document["paths"].items():
        url = path.replace("{id}", "00000000-0000-0000-0000-000000000000").replace("{account}", "GABC")
        for method, operation in item.items():
            answer = client.generic(method.upper(), url)
            assert answer.status_code not in (404, 405) or "error" in answer.json(), (method, path)
            assert str(answer.status_code) in operation["responses"], (method, path, answer.status_code)
