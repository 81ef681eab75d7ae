#!/usr/bin/env python3
# Regenerates connectors/generic/fixtures/*.body and *.request.json (the .events.json expectations come from
# PASSERELLE_UPDATE_GOLDEN=1 and are reviewed by hand). Run from anywhere: python3 connectors/generic/tests/make_fixtures.py
import json, os
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
os.makedirs(D, exist_ok=True)

def case(name, body, account="boutique-lyon", delivery=None, raw=False, no_delivery=False):
    headers = {"Content-Type": "application/json", "User-Agent": "boutique-lyon-sync/2.3"}
    if account is not None: headers["X-Passerelle-Account"] = account
    if not no_delivery: headers["X-Passerelle-Delivery"] = delivery or ("dlv-" + name)
    with open(f"{D}/{name}.body", "w") as f:
        f.write(body if raw else json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    with open(f"{D}/{name}.request.json", "w") as f:
        json.dump({"method": "POST", "headers": headers}, f, indent=2)
        f.write("\n")

eur = lambda m: {"amount_minor": m, "currency": "EUR"}
snapshot = {
  "subject_kind": "SUBJECT_KIND_BASKET",
  "occurred_at": "2026-11-22T13:58:12.250Z",
  "channel": "CHANNEL_WEB",
  "source": {"native_id": "panier-88213"},
  "customers": [{"type": "CUSTOMER_REF_TYPE_EMAIL_SHA256", "value": "5c90285452dff6c6cfa9163f35b0078e5b116976f3216ba662e5c66399f43918"},
                {"type": "CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID", "value": "C-4471", "scope": "generic:boutique-lyon"}],
  "source_version": "1795355892250",
  "references": ["generic:boutique-lyon:panier-88213"],
  "basket_snapshot": {
    "lines": [{"line_id": "1", "sku": "CHEM-LIN-42", "title": "Chemise lin blanc - 42", "quantity": "1",
               "unit_price": eur(6900), "line_total": eur(6900)},
              {"line_id": "2", "sku": "CAFE-MOKA-250", "title": "Caf\u00e9 moka 250 g", "quantity": 3,
               "unit_price": eur(850), "line_total": eur(2295), "discount_total": eur(255),
               "properties": {"mouture": "espresso"}},
              {"line_id": "3", "sku": "FROM-COMTE", "title": "Comt\u00e9 18 mois", "quantity": 1, "unit_of_measure": "KGM",
               "measured_quantity_milli": 412, "unit_price": eur(3290), "line_total": eur(1355), "gtin": "2301234004123"}],
    "totals": {"subtotal": eur(10550), "discount_total": eur(255), "tax_total": eur(1758), "total": eur(10550),
               "taxes_included": True},
    "currency": "EUR",
    "checkout_url": "https://boutique-lyon.example/panier/88213"}}
case("basket_snapshot_single", snapshot)

# Sender-set host fields are discarded; subject kind and source filled in; camelCase JSON names accepted.
case("host_fields_cleared_and_kind_filled", {
  "eventId": "sender-chose-this", "subjectId": "and-this", "receivedAt": "2020-01-01T00:00:00Z",
  "occurredAt": "2026-11-22T13:59:00Z", "channel": "CHANNEL_STORE", "storeId": "lyon-02",
  "source": {"connector": "generic", "account": "boutique-lyon", "deliveryId": "ignored"},
  "references": ["generic:boutique-lyon:panier-88213", "poslog:lyon-02:3-2026-11-22-1187"],
  "basketConverted": {"kind": "CONVERSION_KIND_SALE", "orderReference": "poslog:lyon-02:3-2026-11-22-1187",
                       "orderNumber": "T-1187", "totals": {"total": eur(10550), "taxesIncluded": True}}})

case("batch_three_kinds", {"events": [
  {"occurred_at": "2026-11-22T09:00:00Z", "channel": "CHANNEL_MOBILE", "references": ["generic:boutique-lyon:liste-7"],
   "source_version": 3,
   "wishlist_snapshot": {"name": "Cadeaux", "is_public": False,
                         "items": [{"line_id": "CHEM-LIN-42", "sku": "CHEM-LIN-42", "title": "Chemise lin blanc - 42", "quantity": 1}]}},
  {"occurred_at": "2026-11-22T09:05:00Z", "references": ["generic:boutique-lyon:devis-2026-114"],
   "customers": [{"type": "CUSTOMER_REF_TYPE_PHONE_SHA256", "value": "42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8"}],
   "quote_requested": {"currency": "EUR", "company": "Caf\u00e9 des Arts", "message": "20 kg de moka par mois",
                       "lines": [{"line_id": "1", "sku": "CAFE-MOKA-1KG", "quantity": 20, "unit_price": eur(2900)}]}},
  {"occurred_at": "2026-11-22T09:06:30Z", "channel": "CHANNEL_WEB", "references": ["generic:boutique-lyon:vue-99812"],
   "product_viewed": {"product": {"sku": "CHEM-LIN-42", "title": "Chemise lin blanc"},
                      "page_url": "https://boutique-lyon.example/p/chemise-lin", "dwell": "41.5s", "price": eur(6900)}},
  {"occurred_at": "2026-11-22T09:07:00Z", "subject_kind": "SUBJECT_KIND_BASKET",
   "references": ["generic:boutique-lyon:panier-88213", "generic:boutique-lyon:checkout-5521"],
   "subject_linked": {"reference": "generic:boutique-lyon:checkout-5521", "reason": "checkout_started"}}]})

case("demo_request_no_occurred_at", {"references": ["generic:boutique-lyon:rdv-31"],
  "customers": [{"type": "CUSTOMER_REF_TYPE_EMAIL_SHA256", "value": "6268064b1faeb153b3cc0bda1c7c44fd277182fe592df703ed9a2ea155e5d871"}],
  "demo_requested": {"kind": "DEMO_REQUEST_KIND_APPOINTMENT", "preferred_store_id": "lyon-02",
                     "preferred_at": "2026-11-29T14:30:00+01:00", "contact_mode": "CONTACT_MODE_IN_STORE",
                     "products": [{"sku": "COSTUME-SUR-MESURE"}], "locale": "fr-FR"}})

case("empty_batch", {"events": []})

# ---- Refused (dead-lettered) ----
bad = dict(snapshot); bad = json.loads(json.dumps(snapshot)); bad["basket_snapshot"]["lines"][0]["colour"] = "blanc"
case("unknown_field", bad)
k = json.loads(json.dumps(snapshot)); k["subject_kind"] = "SUBJECT_KIND_QUOTE"
case("subject_kind_mismatch", k)
a = json.loads(json.dumps(snapshot)); a["source"]["account"] = "boutique-paris"
case("other_account_in_source", a)
r = json.loads(json.dumps(snapshot)); r["references"] = ["shopify:example.myshopify.com:c1-abc"]
case("origin_reference_of_another_connector", r)
r2 = json.loads(json.dumps(snapshot)); r2["references"].append("generic:boutique-paris:panier-1")
case("reference_of_another_account", r2)
n = json.loads(json.dumps(snapshot)); n["references"] = []
case("no_reference", n)
p = json.loads(json.dumps(snapshot)); del p["basket_snapshot"]
case("no_payload", p)
c = json.loads(json.dumps(snapshot)); c["basket_snapshot"]["totals"]["total"]["currency"] = "eur"
case("bad_currency", c)
f = json.loads(json.dumps(snapshot)); f["basket_snapshot"]["lines"][0]["unit_price"]["amount_minor"] = 69.5
case("fractional_amount", f)
e = json.loads(json.dumps(snapshot)); e["customers"][0]["value"] = "marie.dupont@example.fr"
case("clear_email", e)
case("transition_rejected_from_sender", {"subject_kind": "SUBJECT_KIND_BASKET", "references": ["generic:boutique-lyon:panier-88213"],
     "transition_rejected": {"from_state": "converted", "event_type": "passerelle.v1.BasketLineAdded"}})
case("linked_without_kind", {"references": ["generic:boutique-lyon:panier-88213"],
     "subject_linked": {"reference": "generic:boutique-lyon:checkout-5521"}})
case("batch_with_a_bad_event", {"events": [snapshot, {"references": ["generic:boutique-lyon:x"], "basket_snapshot": {}, "colour": "red"}]})
case("batch_with_extra_member", {"events": [snapshot], "sent_by": "sync"})
case("missing_delivery_header", snapshot, no_delivery=True)
