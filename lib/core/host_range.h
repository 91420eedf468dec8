// Host lists as operators write them: `10.0.0.[11-40]`, `127.0.0.[1-5,9]:623`,
// `bmc-[01-20].lab`, and comma lists of those.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace storkit {

// The most hosts one range may expand to (a typo like [1-99999999] fails instead of eating
// memory).
inline constexpr size_t kMaxHosts = 65536;
// The longest host name (DNS's limit): 65536 names of this length are the most one spec can ask
// for, not 65536 copies of a name as long as the spec itself.
inline constexpr size_t kMaxHostName = 253;

// Expands `spec` into "host:port" entries in the order written. Commas outside brackets
// separate entries; inside brackets they separate numbers and ranges (`[1-5,9]`). A range whose
// first number has leading zeros keeps that width (`[01-10]` -> 01 ... 10). Several brackets in
// one entry multiply out (`10.0.[1-2].[1-3]`). An entry without `:port` gets `default_port`:
// every result names its port, because a bare "127.0.0.1" means the local BMC to FreeIPMI.
// Throws ConfigError naming the entry for an empty entry, an inverted or malformed range, a bad
// port, a host given twice, a host name longer than kMaxHostName, or more than kMaxHosts hosts.
std::vector<std::string> expand_hosts(const std::string& spec, int default_port);

}  // namespace storkit
