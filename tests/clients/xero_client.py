"""Xero's own Python SDK (xero-python), unchanged, against the simulator.

Takes a token at the simulator's identity endpoint, writes a contact, an invoice, a credit
note and its allocation, then deserialises the simulator's raw answers (Invoices, Contacts,
TaxRates, Accounts, CreditNotes, Error) with the SDK's own ApiClient.deserialize and model
finder, as the SDK does with Xero's answers (MS-JSON dates, Decimal money).
"""
import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token

base = sys.argv[1].rstrip("/")
TENANT = "7f3b0c1e-5a2d-4e8f-9b6a-0d1c2e3f4a5b"
REFRESH = sys.argv[2] if len(sys.argv) > 2 else "demo-refresh-token"


class Raw:
    """What ApiClient.deserialize reads of a response."""

    def __init__(self, status, text):
        self.status = status
        self.text = text
        self.data = text.encode()


def token():
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": REFRESH}).encode()
    req = urllib.request.Request(f"{base}/connect/token", data=body, method="POST")
    req.add_header("Authorization", "Basic " + base64.b64encode(b"client:secret").decode())
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["access_token"]


def call(tok, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}/api.xro/2.0{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {tok}")
    req.add_header("xero-tenant-id", TENANT)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as r:
            return Raw(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        return Raw(e.code, e.read().decode())


def main():
    tok = token()
    client = ApiClient(Configuration(oauth2_token=OAuth2Token(client_id="client", client_secret="secret")))
    finder = AccountingApi(client).get_model_finder()

    def de(raw, kind):
        return client.deserialize(raw, kind, finder)

    r = call(tok, "PUT", "/Contacts", {"Contacts": [{"Name": "SDK Check Buyer", "ContactNumber": "os-sdk"}]})
    assert r.status == 200, r.text
    contacts = de(r, "Contacts").contacts
    contact_id = contacts[0].contact_id
    assert contacts[0].contact_status == "ACTIVE", contacts[0].contact_status

    invoice = {
        "Type": "ACCREC", "Contact": {"ContactID": str(contact_id)}, "InvoiceNumber": "SDK-1",
        "Reference": "sdk os:00000000000000000000000000000sdk", "Date": "2026-11-02",
        "DueDate": "2026-11-02", "LineAmountTypes": "Inclusive", "CurrencyCode": "GBP",
        "Status": "AUTHORISED",
        "LineItems": [{"Description": "Widget", "Quantity": 2, "UnitAmount": 12.0, "DiscountAmount": 2.4,
                       "LineAmount": 21.6, "AccountCode": "200", "TaxType": "OUTPUT2", "TaxAmount": 3.6}],
    }
    r = call(tok, "PUT", "/Invoices?unitdp=4&summarizeErrors=false", {"Invoices": [invoice]})
    assert r.status == 200, r.text
    inv = de(r, "Invoices").invoices[0]
    assert inv.total == Decimal("21.6") and inv.total_tax == Decimal("3.6"), (inv.total, inv.total_tax)
    assert str(inv.date) == "2026-11-02", inv.date
    assert inv.line_amount_types.value == "Inclusive", inv.line_amount_types

    credit = {
        "Type": "ACCRECCREDIT", "Contact": {"ContactID": str(contact_id)}, "CreditNoteNumber": "SDK-1-R1",
        "Date": "2026-11-03", "LineAmountTypes": "Inclusive", "CurrencyCode": "GBP", "Status": "AUTHORISED",
        "LineItems": [{"Description": "Refund", "Quantity": 1, "UnitAmount": 10.8, "LineAmount": 10.8,
                       "AccountCode": "200", "TaxType": "OUTPUT2", "TaxAmount": 1.8}],
    }
    r = call(tok, "PUT", "/CreditNotes?unitdp=4&summarizeErrors=false", {"CreditNotes": [credit]})
    assert r.status == 200, r.text
    cn = de(r, "CreditNotes").credit_notes[0]
    r = call(tok, "PUT", f"/CreditNotes/{cn.credit_note_id}/Allocations",
             {"Allocations": [{"Amount": 10.8, "Invoice": {"InvoiceID": str(inv.invoice_id)}, "Date": "2026-11-03"}]})
    assert r.status == 200, r.text
    assert de(r, "Allocations").allocations[0].amount == Decimal("10.8")

    r = call(tok, "GET", "/Invoices?InvoiceNumbers=SDK-1")
    got = de(r, "Invoices").invoices[0]
    assert got.amount_due == Decimal("10.8") and got.amount_credited == Decimal("10.8"), got.amount_due
    assert got.updated_date_utc is not None
    rates = de(call(tok, "GET", "/TaxRates"), "TaxRates").tax_rates
    assert any(t.tax_type == "OUTPUT2" and t.effective_rate == Decimal("20") for t in rates)
    accounts = de(call(tok, "GET", "/Accounts"), "Accounts").accounts
    assert any(a.code == "200" for a in accounts)
    r = call(tok, "GET", "/Contacts?where=" + urllib.parse.quote('ContactNumber=="os-sdk"'))
    assert len(de(r, "Contacts").contacts) == 1

    r = call(tok, "PUT", "/Invoices", {"Invoices": [invoice]})
    assert r.status == 400, r.status
    err = de(r, "Error")
    assert err.type == "ValidationException", err.type
    assert err.elements[0].validation_errors[0].message == "Invoice # must be unique."
    print(f"xero: contact, invoice {inv.invoice_number}, credit note and allocation deserialised; "
          f"{len(rates)} tax rates, {len(accounts)} accounts; ValidationException parsed")


if __name__ == "__main__":
    main()
