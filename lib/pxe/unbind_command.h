// `pxe-provision unbind NODES`: takes a MAC that `boot` bound to the wrong node away from it.
#pragma once

#include <string>
#include <vector>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

// Removes each node's learned MAC from the node table and its record from the boot run (the
// node is pending again), and records the MAC as unclaimed, so that it binds only to a node in
// whose window it asks for a lease again. The caller runs prepare afterwards (the reservation
// goes). Throws ConfigError (2) for an unknown node, a node without a learned MAC or one whose
// MAC the config gives, before anything changes; LockedError (75) while a boot runs.
void pxe_unbind_nodes(const CommonOptions& common, const std::vector<std::string>& names,
                      Report& report);

}  // namespace storkit
