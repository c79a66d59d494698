"""WooCommerce's own Python client (WooCommerce 3.0.0), unchanged, against the simulator.

Over http:// the client signs with OAuth 1.0a (as WooCommerce requires off TLS); the
simulator must verify that signature, page with X-WP-Total/X-WP-TotalPages, honour
dates_are_gmt, and refuse bad keys with WooCommerce's JSON error.
"""
import json
import sys
import urllib.request

from woocommerce import API

base = sys.argv[1]


def main():
    seed(base, 25)
    api = API(url=base, consumer_key="ck_ordersync_demo", consumer_secret="cs_ordersync_demo",
              version="wc/v3", timeout=10)
    first = api.get("orders", params={"per_page": 10, "page": 1, "dates_are_gmt": "true",
                                      "modified_after": "2000-01-01T00:00:00", "orderby": "modified",
                                      "order": "asc"})
    assert first.status_code == 200, (first.status_code, first.text[:200])
    total, pages = int(first.headers["X-WP-Total"]), int(first.headers["X-WP-TotalPages"])
    assert total >= 20 and pages == -(-total // 10), (total, pages)
    ids = [o["id"] for o in first.json()]
    for p in range(2, pages + 1):
        r = api.get("orders", params={"per_page": 10, "page": p, "dates_are_gmt": "true",
                                      "modified_after": "2000-01-01T00:00:00", "orderby": "modified",
                                      "order": "asc"})
        assert r.status_code == 200, r.status_code
        ids += [o["id"] for o in r.json()]
    assert len(ids) == total == len(set(ids)), (len(ids), total)
    modified = [o["date_modified_gmt"] for o in first.json()]
    assert modified == sorted(modified), "orderby=modified&order=asc"

    one = api.get(f"orders/{ids[0]}")
    assert one.status_code == 200 and one.json()["id"] == ids[0]
    missing = api.get("orders/999999999")
    assert missing.status_code == 404 and missing.json()["code"] == "woocommerce_rest_shop_order_invalid_id"

    bad = API(url=base, consumer_key="ck_ordersync_demo", consumer_secret="cs_wrong", version="wc/v3", timeout=10)
    r = bad.get("orders")
    assert r.status_code == 401 and "code" in r.json(), (r.status_code, r.text[:200])
    print(f"woocommerce: {total} orders over {pages} pages with OAuth 1.0a; 404 and 401 shapes ok")


def seed(base, n):
    req = urllib.request.Request(f"{base}/_sim/seed", data=json.dumps({"count": n, "seed": 7}).encode(),
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()


if __name__ == "__main__":
    main()
