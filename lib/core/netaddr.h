// IPv4 addresses, subnets and address ranges, and Ethernet MAC addresses: parsing, checks and
// the text forms written into generated files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace storkit {

// An IPv4 address in host byte order.
using Ipv4 = uint32_t;

// "198.18.0.1" -> address; nullopt on anything else (no leading zeros, no missing octets).
std::optional<Ipv4> parse_ipv4(std::string_view text);
std::string ipv4_string(Ipv4 addr);

struct Subnet {
    Ipv4 network = 0;
    int prefix = 0;  // 0..32

    Ipv4 mask() const { return prefix == 0 ? 0 : ~Ipv4{0} << (32 - prefix); }
    Ipv4 broadcast() const { return network | ~mask(); }
    bool contains(Ipv4 addr) const { return (addr & mask()) == network; }
    bool overlaps(const Subnet& other) const;
    // True for the network and broadcast addresses of subnets that have them (prefix < 31).
    bool is_reserved(Ipv4 addr) const;
    std::string str() const;  // "198.18.0.0/24"
};

// "198.18.0.0/24". Fails (with `why` set) on bad syntax or when host bits are set.
std::optional<Subnet> parse_subnet(std::string_view text, std::string* why = nullptr);

// An inclusive range of addresses, "198.18.0.100-198.18.0.199".
struct AddressRange {
    Ipv4 first = 0;
    Ipv4 last = 0;

    uint64_t size() const { return uint64_t{last} - first + 1; }
    bool contains(Ipv4 addr) const { return addr >= first && addr <= last; }
    std::string str() const;
};

// Fails (with `why` set) on bad syntax or when the first address is above the last.
std::optional<AddressRange> parse_range(std::string_view text, std::string* why = nullptr);

// Accepts "52:54:00:AB:cd:ef" or "52-54-00-ab-cd-ef"; returns lower case with colons.
std::optional<std::string> normalize_mac(std::string_view text);

// "52:54:00:ab:cd:ef" -> "52-54-00-ab-cd-ef", the form PXE loaders use in file names.
std::string mac_hyphens(std::string_view mac);

}  // namespace storkit
