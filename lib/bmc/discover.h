// Finding the BMCs of a subnet: every address is asked "Get Channel Authentication
// Capabilities" (the session-less IPMI request every LAN BMC answers, as ipmiping sends it), all
// at once from one socket, with resends, until a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bmc/ipmi.h"
#include "core/netaddr.h"

namespace storkit {

struct DiscoverOptions {
    int port = kIpmiPort;
    std::chrono::milliseconds timeout{2000};  // the whole search
    int sends = 3;                            // requests per address, spread over the timeout
    std::string name_prefix = "node";
};

struct FoundBmc {
    Ipv4 address = 0;
    int port = kIpmiPort;
    std::string name;       // stable: from the address's offset in the subnet
    bool ipmi_v20 = false;  // the BMC says it takes IPMI 2.0 (RMCP+) sessions

    std::string host() const;  // "address:port"
    nlohmann::json to_json() const;
};

// The largest subnet a search covers, as its prefix length: a /16, 65534 addresses.
inline constexpr int kMinSearchPrefix = 16;

// `cidr` as a subnet to search: "10.0.0.0/24", at most a /kMinSearchPrefix. Throws ConfigError
// naming the value (host bits set, a larger subnet, bad syntax).
Subnet parse_search_subnet(const std::string& cidr);

// The addresses of `subnet` that can be hosts: all but the network and broadcast address.
std::vector<Ipv4> subnet_hosts(const Subnet& subnet);

// The name of the node whose BMC has `address`: the prefix and the address's offset in the
// subnet, zero-padded to the widest offset the subnet has (10.0.0.11 in 10.0.0.0/24 -> node011).
// The same BMC always gets the same name, however many others answer.
std::string bmc_name(const Subnet& subnet, Ipv4 address, const std::string& prefix);

// The BMCs in `subnet` that answered, in address order. Throws Error when the socket cannot be
// set up.
std::vector<FoundBmc> discover_bmcs(const Subnet& subnet, const DiscoverOptions& options);

}  // namespace storkit
