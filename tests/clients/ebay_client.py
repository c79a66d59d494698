"""eBay's Sell Fulfillment contract, through a client generated from it (openapi-python-client),
unchanged, against the simulator — eBay publishes the contract for exactly this, not a client.

Gets a user token with the refresh-token grant (Basic client auth, as eBay's OAuth clients do),
pages getOrders by lastmodifieddate with limit/offset, reads one order with getOrder, and
checks limit > 200 is refused.
"""
import base64
import json
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

from fulfillment_api_client import AuthenticatedClient
from fulfillment_api_client.api.order import get_order, get_orders

base = sys.argv[1]
CLIENT_ID, CLIENT_SECRET = "demo-app-id", "demo-cert-id"
REFRESH = "v^1.1#i^1#r^1#p^3#I^3#f^0#t^demo-refresh-token"
SCOPE = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly"


def main():
    post_json(f"{base}/_sim/seed", {"count": 25, "seed": 7})
    token = user_token()
    client = AuthenticatedClient(base_url=f"{base}/sell/fulfillment/v1", token=token)
    now = datetime.now(timezone.utc)
    since = (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    seen, offset, pages = [], 0, 0
    while True:
        page = get_orders.sync(client=client, filter_=f"lastmodifieddate:[{since}..]", limit="10",
                               offset=str(offset))
        assert page is not None and not isinstance(page, Exception), page
        pages += 1
        seen += [o.order_id for o in page.orders or []]
        offset += 10
        if not page.next_ or offset >= page.total:
            break
    assert pages > 1 and len(seen) == page.total == len(set(seen)) == 25, (pages, len(seen), page.total)

    one = get_order.sync(client=client, order_id=seen[0])
    assert one is not None and one.order_id == seen[0], one

    r = get_orders.sync_detailed(client=client, filter_=f"lastmodifieddate:[{since}..]", limit="201")
    assert r.status_code == 400, r.status_code
    print(f"ebay: {len(seen)} orders over {pages} pages; getOrder ok; limit > 200 refused")


def user_token():
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": REFRESH,
                                   "scope": SCOPE}).encode()
    req = urllib.request.Request(f"{base}/identity/v1/oauth2/token", data=body, headers={
        "authorization": f"Basic {basic}", "content-type": "application/x-www-form-urlencoded"})
    t = json.loads(urllib.request.urlopen(req).read())
    assert t["token_type"] == "User Access Token" and t["expires_in"] == 7200, t
    return t["access_token"]


def post_json(url, v):
    req = urllib.request.Request(url, data=json.dumps(v).encode(), headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()


if __name__ == "__main__":
    main()
