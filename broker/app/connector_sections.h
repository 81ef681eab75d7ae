#pragma once
// The configuration's connector sections as the connector SDK takes them. The SDK has its own small config tree
// (connectors/sdk/config_node.h) so that connectors depend on neither yaml-cpp nor the host's config structs;
// these functions convert, losslessly. Used by the daemon (to create connectors) and by `passerelle connectors`
// (to validate each configured account on its own).
//
// Pure functions; thread-safe.

#include <string>

#include "broker/config/config.h"
#include "connectors/sdk/config_node.h"

namespace passerelle::app {

// The SDK's config tree from the configuration module's (same shape).
connector::config_node to_sdk_node(const config::config_node& n);

// `section` (connectors.<name>, as written) reduced to ONE account: every other key kept, `accounts` holding only
// `account`. A factory's create() on it validates that account alone.
connector::config_node single_account_section(const config::connector_config& section, const std::string& account);

}  // namespace passerelle::app
