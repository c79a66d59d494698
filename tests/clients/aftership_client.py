"""AfterShip's own Python SDK (aftership-tracking-sdk 10.0.1, API 2026-07), unchanged, against
the simulator.

The SDK sends `as-api-key`, builds the versioned paths itself and validates every answer with
its pydantic models: the simulator must answer in the 2026-07 shapes, refuse a duplicate
(slug, tracking_number) with meta code 4003, page with cursors and refuse a bad key with the
meta envelope.
"""
import sys

import httpx

import tracking
from tracking import exceptions

base = sys.argv[1]


def client(key):
    return tracking.Client(tracking.Configuration(domain=base, api_key=key, max_retry=0))


def main():
    api = client("demo-api-key").tracking
    numbers = [f"1ZCLIENT{n:08}" for n in range(3)]
    ids = []
    for n, number in enumerate(numbers):
        r = api.create_tracking(tracking.CreateTrackingRequest(
            tracking_number=number, slug="ups", title=f"Order #{n}", order_id=f"client-{n}",
            order_number=f"#{n}", custom_fields={"ordersync_key": f"{n:032x}"}))
        assert r.data.tracking_number == number and r.data.slug == "ups", r.data
        assert r.data.tag == tracking.Tag.INFO_RECEIVED, r.data.tag
        ids.append(r.data.id)

    try:
        api.create_tracking(tracking.CreateTrackingRequest(tracking_number=numbers[0], slug="ups"))
        raise AssertionError("a duplicate create must fail")
    except exceptions.BadRequestError as e:
        assert e.meta_code == 4003, (e.meta_code, e.message)

    found = api.get_trackings(tracking_numbers=numbers[1], slug="ups")
    assert [t.id for t in found.data.trackings] == [ids[1]], found.data

    seen, cursor = [], None
    while True:
        page = api.get_trackings(limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [t.id for t in page.data.trackings]
        if not page.data.pagination.has_next_page:
            break
        cursor = page.data.pagination.next_cursor
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen)), seen

    one = api.get_tracking_by_id(ids[2])
    assert one.data.order_id == "client-2", one.data
    up = api.update_tracking_by_id(ids[2], tracking.UpdateTrackingByIdRequest(title="renamed"))
    assert up.data.title == "renamed", up.data
    api.delete_tracking_by_id(ids[2])
    try:
        api.get_tracking_by_id(ids[2])
        raise AssertionError("a deleted tracking must be gone")
    except exceptions.NotFoundError as e:
        assert e.meta_code == 4004, e.meta_code

    try:
        client("").tracking.get_trackings()
        raise AssertionError("the SDK refuses an empty key")
    except exceptions.ApiException:
        pass
    # `ordersync sim` accepts any non-empty key, so the 401 is checked without the header.
    r = httpx.get(f"{base}/tracking/2026-07/trackings")
    meta = r.json()["meta"]
    assert r.status_code == 401 and meta["code"] == 401 and meta["type"] == "Unauthorized", r.text
    print(f"aftership: {len(ids)} trackings created, 4003 on duplicate, {len(seen)} paged by cursor, "
          "get/update/delete and 401 ok")


if __name__ == "__main__":
    main()
