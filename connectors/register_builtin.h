#pragma once
// The explicit list of connectors compiled into Passerelle (ClickHouse's registerFormats() pattern): one call,
// no static initialisers, so the set of built-in connectors is visible in one place and link order cannot drop one.

#include "broker/core/result.h"
#include "connectors/sdk/registry.h"

namespace passerelle::connectors {

// Adds every built-in connector's factory to `r`. Called once at start-up, on the main thread.
result<void> register_builtin_connectors(connector::registry& r);

}  // namespace passerelle::connectors
