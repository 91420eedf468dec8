#include "core/netaddr.h"

#include <catch2/catch.hpp>

using namespace storkit;

TEST_CASE("IPv4 addresses parse strictly") {
    CHECK(parse_ipv4("198.18.0.1") == Ipv4{0xc6120001});
    CHECK(ipv4_string(0xc6120001) == "198.18.0.1");
    for (const char* bad : {"", "198.18.0", "198.18.0.1.2", "198.18.0.256", "198.18.00.1",
                            "198.18.0.-1", "198.18.0.1 ", "a.b.c.d"})
        CHECK_FALSE(parse_ipv4(bad).has_value());
}

TEST_CASE("subnets: host bits, containment, overlap") {
    std::string why;
    CHECK_FALSE(parse_subnet("198.18.0.5/24", &why).has_value());
    CHECK(why == "host bits are set (did you mean 198.18.0.0/24?)");
    CHECK_FALSE(parse_subnet("198.18.0.0", &why).has_value());
    CHECK_FALSE(parse_subnet("198.18.0.0/33", &why).has_value());
    Subnet a = *parse_subnet("198.18.0.0/24"), b = *parse_subnet("198.18.0.0/16"),
           c = *parse_subnet("198.18.1.0/24");
    CHECK(a.contains(*parse_ipv4("198.18.0.200")));
    CHECK_FALSE(a.contains(*parse_ipv4("198.18.1.1")));
    CHECK(a.overlaps(b));
    CHECK(b.overlaps(a));
    CHECK_FALSE(a.overlaps(c));
    CHECK(a.is_reserved(*parse_ipv4("198.18.0.0")));
    CHECK(a.is_reserved(*parse_ipv4("198.18.0.255")));
    CHECK_FALSE(a.is_reserved(*parse_ipv4("198.18.0.1")));
    CHECK(a.str() == "198.18.0.0/24");
    CHECK(parse_subnet("0.0.0.0/0")->contains(*parse_ipv4("203.0.113.9")));
}

TEST_CASE("address ranges") {
    std::string why;
    AddressRange r = *parse_range("198.18.0.100-198.18.0.199");
    CHECK(r.size() == 100);
    CHECK(r.contains(*parse_ipv4("198.18.0.150")));
    CHECK_FALSE(parse_range("198.18.0.199-198.18.0.100", &why).has_value());
    CHECK(why == "the first address is above the last");
    CHECK_FALSE(parse_range("198.18.0.1", &why).has_value());
}

TEST_CASE("MAC addresses normalize to lower case with colons") {
    CHECK(normalize_mac("52:54:00:AB:cd:EF") == "52:54:00:ab:cd:ef");
    CHECK(normalize_mac("52-54-00-ab-cd-ef") == "52:54:00:ab:cd:ef");
    CHECK_FALSE(normalize_mac("52:54:00-ab:cd:ef").has_value());
    CHECK_FALSE(normalize_mac("52:54:00:ab:cd").has_value());
    CHECK_FALSE(normalize_mac("52:54:00:ab:cd:eg").has_value());
    CHECK(mac_hyphens("52:54:00:ab:cd:ef") == "52-54-00-ab-cd-ef");
}
