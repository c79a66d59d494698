"""Amazon's own Python SDK (amzn-sp-api, module spapi), unchanged, against the simulator.

Pages through searchOrders with buyer and recipient data, reads one order with getOrder, and
checks the 2-minute rule answers a 400 the SDK surfaces as an ApiException.
"""
import sys
from datetime import datetime, timedelta, timezone

import spapi
from spapi.rest import ApiException

base = sys.argv[1]
US = "ATVPDKIKX0DER"


def main():
    seed(base, 30)
    client = spapi.SPAPIClient(
        spapi.SPAPIConfig(
            client_id="amzn1.application-oa2-client.demo",
            client_secret="amzn1.oa2-cs.v1.demo",
            refresh_token="Atzr|demo-refresh-token",
            region="NA",
        ),
        oauth_endpoint=f"{base}/auth/o2/token",
        endpoint=base,
    )
    search = spapi.SearchOrdersApi(client.api_client)
    now = datetime.now(timezone.utc)
    seen, token, pages = [], None, 0
    while True:
        kwargs = dict(
            last_updated_after=now - timedelta(days=30),
            last_updated_before=now - timedelta(minutes=3),
            marketplace_ids=[US],
            max_results_per_page=7,
            included_data=["BUYER", "RECIPIENT", "PROCEEDS"],
        )
        if token:
            kwargs["pagination_token"] = token
        page = search.search_orders(**kwargs)
        pages += 1
        seen += [o.order_id for o in page.orders]
        token = page.pagination.next_token if page.pagination else None
        if not token:
            break
    assert pages > 1, f"expected several pages, got {pages}"
    assert len(seen) == len(set(seen)) and seen, f"{len(seen)} orders, {len(set(seen))} distinct"

    order = spapi.GetOrderApi(client.api_client).get_order(seen[0], included_data=["BUYER"]).order
    assert order.order_id == seen[0]

    try:
        search.search_orders(last_updated_after=now - timedelta(days=1), marketplace_ids=[US],
                             last_updated_before=now)
        raise AssertionError("lastUpdatedBefore = now must be refused")
    except ApiException as e:
        assert e.status == 400, e.status
    print(f"amazon: {len(seen)} US orders over {pages} pages; getOrder ok; 2-minute rule enforced")


def seed(base, n):
    import json
    import urllib.request

    req = urllib.request.Request(f"{base}/_sim/seed", data=json.dumps({"count": n, "seed": 7}).encode(),
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()


if __name__ == "__main__":
    main()
