// Customer view: references seen together make one customer; a later link merges views without losing anything.

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "broker/lifecycle/customer_directory.h"
#include "broker/lifecycle/derived_ids.h"

namespace lc = passerelle::lifecycle;
namespace v1 = passerelle::v1;

namespace {

lc::customer_ref loyalty(const std::string& v) { return {v1::CUSTOMER_REF_TYPE_LOYALTY_ID, "club", v}; }
lc::customer_ref web(const std::string& v) {
  return {v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID, "shopify:shop.example.com", v};
}
lc::customer_ref email(const std::string& v) { return {v1::CUSTOMER_REF_TYPE_EMAIL_SHA256, "", v}; }

}  // namespace

TEST_CASE("a web cart later tied to a loyalty card in store merges the two customers", "[lifecycle]") {
  lc::customer_directory dir;
  const lc::subject_key web_cart{v1::SUBJECT_KIND_BASKET, "bsk_web"};
  const lc::subject_key store_basket{v1::SUBJECT_KIND_BASKET, "bsk_store"};
  const auto a = dir.observe({web("c-42"), email("ab12")}, &web_cart, "login", "e1");
  const auto b = dir.observe({loyalty("L-7")}, &store_basket, "loyalty_card_scanned", "e2");
  REQUIRE(a.customer_id != b.customer_id);
  CHECK(dir.size() == 2);
  CHECK(a.derived.size() == 1);  // two references linked at once
  CHECK(b.derived.empty());      // a single reference links nothing

  // At the till, the web customer's e-mail hash comes with the loyalty card.
  const auto m = dir.observe({email("ab12"), loyalty("L-7")}, &store_basket, "loyalty_card_scanned", "e3");
  CHECK(m.changed);
  REQUIRE(m.merged_ids.size() == 1);
  CHECK(dir.size() == 1);
  const std::string survivor = std::min(a.customer_id, b.customer_id);
  CHECK(m.customer_id == survivor);
  const lc::customer_view* v = dir.find(survivor);
  REQUIRE(v != nullptr);
  CHECK(v->refs.size() == 3);
  CHECK(v->subjects == std::vector<lc::subject_key>{store_basket, web_cart});
  // The absorbed id still resolves, and every reference finds the merged view.
  CHECK(dir.find(std::max(a.customer_id, b.customer_id)) == v);
  CHECK(dir.find_by_ref(web("c-42")) == v);
  CHECK(dir.find_by_ref(loyalty("L-7")) == v);
  REQUIRE(m.derived.size() == 1);
  CHECK(m.derived[0].subject_kind() == v1::SUBJECT_KIND_CUSTOMER);
  CHECK(m.derived[0].subject_id() == survivor);
  CHECK(m.derived[0].customer_references_linked().evidence() == "loyalty_card_scanned");
  CHECK(m.derived[0].customer_references_linked().observed_on_subject_id() == "bsk_store");

  // Observing the same again changes nothing.
  CHECK_FALSE(dir.observe({email("ab12"), loyalty("L-7")}, &store_basket, "x", "e3").changed);
}

TEST_CASE("customer ids do not depend on the order of observations", "[lifecycle]") {
  std::vector<std::vector<lc::customer_ref>> obs = {
      {web("1")}, {loyalty("A")}, {email("e1"), web("1")}, {loyalty("A"), email("e2")}, {email("e2"), email("e1")},
      {web("9")}};
  std::mt19937 rng(42);
  std::string expected_id;
  std::vector<std::string> expected_refs;
  for (int round = 0; round < 20; ++round) {
    std::shuffle(obs.begin(), obs.end(), rng);
    lc::customer_directory dir;
    int i = 0;
    for (const auto& o : obs) (void)dir.observe(o, nullptr, "test", "e" + std::to_string(i++));
    REQUIRE(dir.size() == 2);  // web("9") stays alone
    const lc::customer_view* v = dir.find_by_ref(web("1"));
    REQUIRE(v != nullptr);
    if (round == 0) {
      expected_id = v->id;
      expected_refs = v->refs;
    }
    CHECK(v->id == expected_id);
    CHECK(v->refs == expected_refs);
    CHECK(v->refs.size() == 4);
  }
}

TEST_CASE("customer views persist and restore - bounds are reported", "[lifecycle]") {
  lc::customer_directory dir(lc::customer_limits{.max_refs = 2, .max_subjects = 1});
  const lc::subject_key s1{v1::SUBJECT_KIND_BASKET, "bsk_1"};
  const lc::subject_key s2{v1::SUBJECT_KIND_QUOTE, "quo_1"};
  (void)dir.observe({loyalty("A"), web("1")}, &s1, "t", "e1");
  const auto over = dir.observe({loyalty("A"), email("zz")}, &s2, "t", "e2");
  CHECK(over.truncated);
  const std::string bytes = dir.encode_customer(over.customer_id);
  REQUIRE_FALSE(bytes.empty());
  lc::customer_directory restored;
  REQUIRE(restored.restore_customer(bytes).ok());
  const lc::customer_view* v = restored.find(over.customer_id);
  REQUIRE(v != nullptr);
  CHECK(*v == *dir.find(over.customer_id));
  CHECK(v->truncated);
  CHECK(restored.find_by_ref(web("1")) == v);
  CHECK_FALSE(restored.restore_customer(bytes.substr(0, bytes.size() - 2)).ok());
}

TEST_CASE("reference index: first subject keeps a reference - conflicts are reported", "[lifecycle]") {
  lc::reference_index idx;
  const lc::subject_key a{v1::SUBJECT_KIND_BASKET, "bsk_a"};
  const lc::subject_key b{v1::SUBJECT_KIND_BASKET, "bsk_b"};
  CHECK(idx.attach("shopify:s:cart-1", a) == lc::reference_index::attach_result::attached);
  CHECK(idx.attach("shopify:s:cart-1", a) == lc::reference_index::attach_result::already);
  CHECK(idx.attach("shopify:s:cart-1", b) == lc::reference_index::attach_result::conflict);
  REQUIRE(idx.find("shopify:s:cart-1") != nullptr);
  CHECK(*idx.find("shopify:s:cart-1") == a);
  CHECK(idx.find("shopify:s:cart-2") == nullptr);
}
