#include "connectors/register_builtin.h"

#include "connectors/generic/generic_connector.h"
#include "connectors/shopify/shopify_connector.h"
#include "connectors/woocommerce/woocommerce_connector.h"

namespace passerelle::connectors {

result<void> register_builtin_connectors(connector::registry& r) {
  std::unique_ptr<connector::connector_factory> builtin[] = {
      generic::make_generic_factory(),
      shopify::make_shopify_factory(),
      woocommerce::make_woocommerce_factory(),
  };
  for (auto& factory : builtin) {
    if (auto added = r.add(std::move(factory)); !added) return added;
  }
  return ok();
}

}  // namespace passerelle::connectors
