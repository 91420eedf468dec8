// Host lists as operators write them: `10.0.0.[11-40]`, `127.0.0.[1-5,9]:623`,
// `bmc-[01-20].lab`, and comma lists of those; and IPv4 subnets in CIDR form.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace storkit {

// The most hosts one range may expand to (a typo like [1-99999999] fails instead of eating
// memory).
inline constexpr size_t kMaxHosts = 65536;

// Expands `spec` into "host:port" entries in the order written. Commas outside brackets
// separate entries; inside brackets they separate numbers and ranges (`[1-5,9]`). A range whose
// first number has leading zeros keeps that width (`[01-10]` -> 01 ... 10). Several brackets in
// one entry multiply out (`10.0.[1-2].[1-3]`). An entry without `:port` gets `default_port`:
// every result names its port, because a bare "127.0.0.1" means the local BMC to FreeIPMI.
// Throws ConfigError naming the entry for an empty entry, an inverted or malformed range, a bad
// port, a host given twice, or more than kMaxHosts hosts.
std::vector<std::string> expand_hosts(const std::string& spec, int default_port);

// An IPv4 subnet, e.g. 10.0.0.0/24.
struct Subnet {
    uint32_t network = 0;  // host byte order, host bits cleared
    int prefix = 0;

    // The usable host addresses: all but the network and broadcast address (a /31 or /32 has
    // only its own addresses).
    std::vector<uint32_t> hosts() const;
    // The host part of `address` (its offset from the network address).
    uint32_t offset(uint32_t address) const { return address - network; }
    bool contains(uint32_t address) const;
    std::string to_string() const;
};

// Parses "a.b.c.d/n" (n from 16 to 32: a subnet of at most 65536 addresses). Host bits that are
// set are an error, so a mistyped prefix is caught. Throws ConfigError naming the value.
Subnet parse_subnet(const std::string& cidr);

// Dotted quad <-> host-order address. parse_ipv4 throws ConfigError naming the value.
uint32_t parse_ipv4(const std::string& text);
std::string format_ipv4(uint32_t address);

}  // namespace storkit
