#!/usr/bin/env python3
# Regenerates connectors/woocommerce/fixtures/*.body and *.request.json (the .events.json expectations come from
# PASSERELLE_UPDATE_GOLDEN=1 and are reviewed by hand). Run from anywhere: python3 connectors/woocommerce/tests/make_fixtures.py
import json, os, copy
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
os.makedirs(D, exist_ok=True)

def wp_json(obj):
    # wp_json_encode(): compact, non-ASCII as \uXXXX, '/' escaped as '\/'.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")

def case(name, body, topic, resource=None, event=None, delivery="5b7f2c1e9d8a4f60b3c2a1d0e9f8a7b6", source="https://shop.example.fr/", webhook_id="12", extra=None, raw=False, content_type="application/json"):
    headers = {}
    if topic is not None:
        r, e = topic.split(".", 1) if resource is None else (resource, event)
        headers = {
            "Content-Type": content_type,
            "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
            "X-WC-Webhook-Source": source,
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": r,
            "X-WC-Webhook-Event": e,
            "X-WC-Webhook-ID": webhook_id,
            "X-WC-Webhook-Delivery-ID": delivery,
        }
    if extra: headers.update(extra)
    with open(f"{D}/{name}.body", "wb") as f:
        f.write(body.encode() if raw else wp_json(body).encode())
    with open(f"{D}/{name}.request.json", "w") as f:
        json.dump({"method": "POST", "headers": headers}, f, indent=2)
        f.write("\n")

links = lambda oid: {"self": [{"href": f"https://shop.example.fr/wp-json/wc/v3/orders/{oid}"}],
                     "collection": [{"href": "https://shop.example.fr/wp-json/wc/v3/orders"}],
                     "customer": [{"href": "https://shop.example.fr/wp-json/wc/v3/customers/12"}]}

billing = {"first_name": "Marie", "last_name": "Dupont", "company": "", "address_1": "12 rue de la Paix", "address_2": "",
           "city": "Paris", "state": "", "postcode": "75002", "country": "FR", "email": "Marie.Dupont@Example.fr ",
           "phone": "06 12 34 56 78"}
shipping = {k: v for k, v in billing.items() if k not in ("email",)}

order = {
  "id": 727, "parent_id": 0, "status": "processing", "currency": "EUR", "version": "9.4.2", "prices_include_tax": True,
  "date_created": "2026-11-22T15:02:11", "date_modified": "2026-11-22T15:02:14",
  "discount_total": "4.57", "discount_tax": "0.91", "shipping_total": "4.90", "shipping_tax": "0.98",
  "cart_tax": "8.22", "total": "55.20", "total_tax": "9.20", "customer_id": 12,
  "order_key": "wc_order_Xk3pQ9sL2aVbN", "billing": billing, "shipping": shipping,
  "payment_method": "stripe", "payment_method_title": "Carte bancaire", "transaction_id": "pi_3QK9xYZ2eZvKYlo20AbCdEfG",
  "customer_ip_address": "203.0.113.24", "customer_user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15",
  "created_via": "checkout", "customer_note": "Livraison apr\u00e8s 18h svp", "date_completed": None,
  "date_paid": "2026-11-22T15:02:14", "cart_hash": "8f1a2b0c3d4e5f60718293a4b5c6d7e8", "number": "727",
  "meta_data": [{"id": 5101, "key": "is_vat_exempt", "value": "no"},
                {"id": 5102, "key": "passerelle_cart_key", "value": "c5e0a7d2-3f4b-4e8a-9b61-2d7f0c9e8a13"},
                {"id": 5103, "key": "_stripe_customer_id", "value": "cus_R2aBcD3eFgH4iJ"}],
  "line_items": [
    {"id": 315, "name": "T-shirt bleu - M", "product_id": 93, "variation_id": 95, "quantity": 2, "tax_class": "",
     "subtotal": "33.17", "subtotal_tax": "6.63", "total": "29.85", "total_tax": "5.97",
     "taxes": [{"id": 1, "total": "5.97", "subtotal": "6.63"}],
     "meta_data": [{"id": 3120, "key": "pa_taille", "value": "m", "display_key": "Taille", "display_value": "M"},
                   {"id": 3121, "key": "_reduced_stock", "value": "2", "display_key": "_reduced_stock", "display_value": "2"}],
     "sku": "TS-BLEU-M", "price": 16.585, "image": {"id": "96", "src": "https://shop.example.fr/wp-content/uploads/2026/03/ts-bleu.jpg"},
     "parent_name": "T-shirt bleu"},
    {"id": 316, "name": "Mug Caf\u00e9 Passerelle", "product_id": 120, "variation_id": 0, "quantity": 1, "tax_class": "",
     "subtotal": "12.50", "subtotal_tax": "2.50", "total": "11.25", "total_tax": "2.25",
     "taxes": [{"id": 1, "total": "2.25", "subtotal": "2.50"}], "meta_data": [], "sku": "MUG-01", "price": 12.5,
     "image": {"id": "121", "src": "https://shop.example.fr/wp-content/uploads/2026/03/mug.jpg"}, "parent_name": None}],
  "tax_lines": [{"id": 318, "rate_code": "FR-TVA-1", "rate_id": 1, "label": "TVA", "compound": False, "tax_total": "8.22",
                 "shipping_tax_total": "0.98", "rate_percent": 20, "meta_data": []}],
  "shipping_lines": [{"id": 317, "method_title": "Colissimo", "method_id": "flat_rate", "instance_id": "2", "total": "4.90",
                      "total_tax": "0.98", "taxes": [{"id": 1, "total": "0.98", "subtotal": ""}], "meta_data": []}],
  "fee_lines": [],
  "coupon_lines": [{"id": 319, "code": "bienvenue10", "discount": "4.57", "discount_tax": "0.91", "meta_data": []}],
  "refunds": [], "payment_url": "https://shop.example.fr/commande/order-pay/727/?pay_for_order=true&key=wc_order_Xk3pQ9sL2aVbN",
  "is_editable": False, "needs_payment": False, "needs_processing": True,
  "date_created_gmt": "2026-11-22T14:02:11", "date_modified_gmt": "2026-11-22T14:02:14", "date_completed_gmt": None,
  "date_paid_gmt": "2026-11-22T14:02:14", "currency_symbol": "\u20ac", "_links": links(727)}

case("order_created_processing_with_cart_key", order, "order.created")

o = copy.deepcopy(order); o["status"] = "completed"; o["date_modified_gmt"] = "2026-11-23T09:30:00"; o["date_modified"] = "2026-11-23T10:30:00"
o["date_completed"] = "2026-11-23T10:30:00"; o["date_completed_gmt"] = "2026-11-23T09:30:00"
case("order_updated_completed", o, "order.updated", delivery="0a9b8c7d6e5f40312a3b4c5d6e7f8091")

# A guest order placed without the companion plugin (no cart key), in US dollars, taxes on top.
g = copy.deepcopy(order)
g.update({"id": 1042, "number": "1042", "currency": "USD", "prices_include_tax": False, "customer_id": 0,
          "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "0.00", "shipping_tax": "0.00",
          "cart_tax": "2.40", "total_tax": "2.40", "total": "32.39", "created_via": "store-api",
          "date_created_gmt": "2026-11-22T18:44:01", "date_modified_gmt": "2026-11-22T18:44:03", "currency_symbol": "$",
          "coupon_lines": [], "meta_data": [{"id": 9001, "key": "is_vat_exempt", "value": "no"}],
          "billing": dict(billing, email="guest.buyer@example.com", country="US", state="NY", city="New York", postcode="10001"),
          "_links": links(1042)})
g["line_items"] = [{"id": 2201, "name": "Notebook A5 (pack of 3)", "product_id": 301, "variation_id": 0, "quantity": 3,
                    "tax_class": "", "subtotal": "29.99", "subtotal_tax": "2.40", "total": "29.99", "total_tax": "2.40",
                    "taxes": [{"id": 4, "total": "2.4", "subtotal": "2.4"}], "meta_data": [], "sku": "NB-A5-3",
                    "price": 9.9966666666666661, "image": {"id": "", "src": ""}, "parent_name": None}]
case("order_created_guest_without_cart_key", g, "order.created", source="https://shop.example.fr", delivery="f1e2d3c4b5a697887766554433221100")

p = copy.deepcopy(order); p.update({"status": "pending", "date_paid": None, "date_paid_gmt": None, "needs_payment": True, "transaction_id": ""})
case("order_created_pending_with_cart_key", p, "order.created", delivery="aa11bb22cc33dd44ee55ff6600778899")

pg = copy.deepcopy(g); pg.update({"status": "failed"})
case("order_updated_failed_without_cart_key", pg, "order.updated", delivery="99887766554433221100ffeeddccbbaa")

c = copy.deepcopy(order); c.update({"status": "cancelled", "date_modified_gmt": "2026-11-24T08:00:00"})
case("order_updated_cancelled", c, "order.updated", delivery="cafe0000cafe0000cafe0000cafe0000")

case("order_deleted", {"id": 727}, "order.deleted", delivery="dead0000dead0000dead0000dead0000")

r = copy.deepcopy(order); r["date_modified_gmt"] = "2026-11-25T07:15:42"
case("order_restored", r, "order.restored", delivery="beef0000beef0000beef0000beef0000")

case("product_updated_not_used", {"id": 93, "name": "T-shirt bleu", "slug": "t-shirt-bleu", "type": "variable",
     "status": "publish", "price": "19.90", "regular_price": "", "date_modified_gmt": "2026-11-20T10:00:00"}, "product.updated",
     delivery="1234567890abcdef1234567890abcdef")

# Money that is not a decimal: dead-lettered with the field named.
bad = copy.deepcopy(order); bad["line_items"][1]["total"] = "11,25"
case("order_bad_money", bad, "order.created", delivery="0badbad0badbad0badbad0badbad0bad")

nocur = copy.deepcopy(order); del nocur["currency"]
case("order_missing_currency", nocur, "order.created", delivery="0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c")

# WooCommerce's creation ping: form post, no X-WC-* header at all, no signature.
case("ping", "webhook_id=12", None, raw=True,
     extra={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"})

# ---- Companion plugin ----
cust = {"id": 12, "email": "Marie.Dupont@Example.fr", "phone": "+33612345678"}
cart = {
  "protocol": 1, "cart_key": "c5e0a7d2-3f4b-4e8a-9b61-2d7f0c9e8a13", "cart_hash": "8f1a2b0c3d4e5f60718293a4b5c6d7e8",
  "updated_at": "2026-11-22T14:01:37.412Z", "currency": "EUR", "prices_include_tax": True, "customer": cust,
  "lines": [
    {"key": "b6d767d2f8ed5d21a44b0e5886680cb9", "product_id": 93, "variation_id": 95, "sku": "TS-BLEU-M", "name": "T-shirt bleu - M",
     "quantity": 2, "unit_price": "19.90", "subtotal": "39.80", "total": "35.82",
     "image_url": "https://shop.example.fr/wp-content/uploads/2026/03/ts-bleu.jpg", "attributes": {"attribute_pa_taille": "m"}},
    {"key": "da4fb5c6e93e74d3df8527599fa62642", "product_id": 120, "variation_id": 0, "sku": "MUG-01", "name": "Mug Caf\u00e9 Passerelle",
     "quantity": 1, "unit_price": "15.00", "subtotal": "15.00", "total": "13.50",
     "image_url": "https://shop.example.fr/wp-content/uploads/2026/03/mug.jpg", "attributes": {}}],
  "coupons": [{"code": "bienvenue10", "discount": "5.48"}],
  "totals": {"subtotal": "49.32", "discount_total": "5.48", "tax_total": "8.22", "shipping_total": "5.88", "total": "55.20"},
  "checkout_url": "https://shop.example.fr/commande/", "note": ""}
case("companion_cart_updated", cart, "passerelle.cart.updated", resource="passerelle", event="cart.updated",
     delivery="3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c", webhook_id="0")

guest_cart = {"protocol": 1, "cart_key": "1e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b", "updated_at": "2026-11-22T20:15:03Z",
              "currency": "EUR", "prices_include_tax": True, "customer": None, "lines": [],
              "totals": {"subtotal": "0.00", "total": "0.00"}}
case("companion_cart_updated_empty_guest", guest_cart, "passerelle.cart.updated", resource="passerelle", event="cart.updated",
     delivery="5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", webhook_id="0")

case("companion_cart_emptied", {"protocol": 1, "cart_key": "c5e0a7d2-3f4b-4e8a-9b61-2d7f0c9e8a13",
     "updated_at": "2026-11-22T14:05:00.000Z", "currency": "EUR", "customer": {"id": 12, "email": "marie.dupont@example.fr"}},
     "passerelle.cart.emptied", resource="passerelle", event="cart.emptied", delivery="7c6b5a49-3827-4165-9f8e-7d6c5b4a3928", webhook_id="0")

wl = {"protocol": 1, "wishlist_id": "17", "name": "No\u00ebl", "is_public": True, "updated_at": "2026-11-21T09:12:45+01:00",
      "currency": "EUR", "customer": {"id": 12, "email": "marie.dupont@example.fr"},
      "items": [{"key": "93-95", "product_id": 93, "variation_id": 95, "sku": "TS-BLEU-M", "name": "T-shirt bleu - M",
                 "quantity": 1, "unit_price": "19.90", "image_url": "https://shop.example.fr/wp-content/uploads/2026/03/ts-bleu.jpg"},
                {"key": "410-0", "product_id": 410, "variation_id": 0, "sku": "SAC-CUIR", "name": "Sac cuir camel"}]}
case("companion_wishlist_updated", wl, "passerelle.wishlist.updated", resource="passerelle", event="wishlist.updated",
     delivery="0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", webhook_id="0")
case("companion_wishlist_deleted", {"protocol": 1, "wishlist_id": "17", "updated_at": "2026-12-26T10:00:00Z",
     "customer": {"id": 12}}, "passerelle.wishlist.deleted", resource="passerelle", event="wishlist.deleted",
     delivery="11111111-2222-4333-8444-555555555555", webhook_id="0")

quote = {"protocol": 1, "quote_id": "rfq-381", "requested_at": "2026-11-22T10:41:09Z", "currency": "EUR",
         "customer": {"id": 0, "email": "achats@atelier-martin.fr", "phone": "+33142868200"},
         "company": "Atelier Martin SARL", "message": "Bonjour, 40 tabliers brod\u00e9s avec notre logo, livraison avant le 15/01.",
         "lines": [{"key": "tablier-lin", "product_id": 512, "variation_id": 0, "sku": "TAB-LIN", "name": "Tablier lin naturel",
                    "quantity": 40, "unit_price": "34.00", "attributes": {"broderie": "logo Atelier Martin"}}]}
case("companion_quote_requested", quote, "passerelle.quote.requested", resource="passerelle", event="quote.requested",
     delivery="22222222-3333-4444-8555-666666666666", webhook_id="0")

demo = {"protocol": 1, "request_id": "187", "kind": "demo", "requested_at": "2026-11-22T16:20:00Z",
        "customer": {"id": 12, "email": "marie.dupont@example.fr", "phone": "+33612345678"},
        "products": [{"product_id": 777, "variation_id": 0, "sku": "VELO-CARGO-E", "name": "V\u00e9lo cargo \u00e9lectrique",
                      "url": "https://shop.example.fr/produit/velo-cargo-electrique/"}],
        "message": "Essai possible samedi matin ?", "preferred_at": "2026-11-28T10:00:00+01:00",
        "preferred_store_id": "paris-01", "contact_mode": "in_store", "locale": "fr-FR"}
case("companion_demo_requested", demo, "passerelle.demo.requested", resource="passerelle", event="demo.requested",
     delivery="33333333-4444-4555-8666-777777777777", webhook_id="0")

info = {"protocol": 1, "request_id": "188", "kind": "information", "requested_at": "2026-11-22T16:25:00Z",
        "customer": {"email": "jean@example.org"}, "products": [{"sku": "VELO-CARGO-E"}],
        "message": "Quelle autonomie avec la batterie 500 Wh ?", "contact_mode": "email", "locale": "fr-FR"}
case("companion_information_requested", info, "passerelle.demo.requested", resource="passerelle", event="demo.requested",
     delivery="44444444-5555-4666-8777-888888888888", webhook_id="0")

case("companion_unknown_topic", {"protocol": 1, "cart_key": "x", "updated_at": "2026-11-22T14:01:37Z"}, "passerelle.cart.merged",
     resource="passerelle", event="cart.merged", delivery="55555555-6666-4777-8888-999999999999", webhook_id="0")
case("companion_future_protocol", dict(cart, protocol=2), "passerelle.cart.updated", resource="passerelle", event="cart.updated",
     delivery="66666666-7777-4888-8999-aaaaaaaaaaaa", webhook_id="0")
nk = copy.deepcopy(cart); del nk["cart_key"]
case("companion_cart_missing_key", nk, "passerelle.cart.updated", resource="passerelle", event="cart.updated",
     delivery="77777777-8888-4999-8aaa-bbbbbbbbbbbb", webhook_id="0")
bp = copy.deepcopy(cart); bp["customer"]["phone"] = "06 12 34 56 78"
case("companion_cart_bad_phone", bp, "passerelle.cart.updated", resource="passerelle", event="cart.updated",
     delivery="88888888-9999-4aaa-8bbb-cccccccccccc", webhook_id="0")
