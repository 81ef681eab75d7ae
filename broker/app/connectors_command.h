#pragma once
// `passerelle connectors [--config FILE] [--json]`: the connectors compiled in (the explicit registration list,
// connectors/register_builtin.h), each with its status, description, how it authenticates, how it finds the
// account, and its account config fields (name, type, required, secret, description) from the factory's
// metadata. With --config: the accounts configured for each connector and whether each account's configuration
// is accepted by the connector's own factory (its error otherwise), and configured sections no compiled-in
// connector claims (plugin connectors; loading them is not built yet).
//
// Never prints a secret: only account names, field names and the factories' error messages (which name keys,
// never values).
//
// Exit codes: 0 ok (even when an account is refused: the listing is the answer), 2 bad usage or a configuration
// file that does not load (one line naming the key). Thread: the CLI's main thread.

#include "broker/app/cli.h"

namespace passerelle::app {

command connectors_command();

}  // namespace passerelle::app
