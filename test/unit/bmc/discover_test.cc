#include "bmc/discover.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using storkit::parse_search_subnet;

TEST_CASE("a search subnet lists its host addresses", "[discover]") {
    storkit::Subnet s = parse_search_subnet("10.1.2.0/24");
    std::vector<storkit::Ipv4> hosts = storkit::subnet_hosts(s);
    REQUIRE(hosts.size() == 254);
    CHECK(storkit::ipv4_string(hosts.front()) == "10.1.2.1");
    CHECK(storkit::ipv4_string(hosts.back()) == "10.1.2.254");
    CHECK(storkit::subnet_hosts(parse_search_subnet("10.1.2.4/31")).size() == 2);
    CHECK(storkit::subnet_hosts(parse_search_subnet("10.1.2.4/32")).size() == 1);
    CHECK(storkit::subnet_hosts(parse_search_subnet("10.1.0.0/16")).size() == 65534);
}

TEST_CASE("a bad or too large search subnet is refused, naming it", "[discover]") {
    CHECK_THROWS_WITH(parse_search_subnet("10.1.2.3/24"),
                      Catch::Contains("10.1.2.3/24") && Catch::Contains("10.1.2.0/24"));
    CHECK_THROWS_WITH(parse_search_subnet("10.0.0.0/8"), Catch::Contains("/16"));
    CHECK_THROWS_WITH(parse_search_subnet("10.0.0.0/15"),
                      "subnet '10.0.0.0/15': /15 is larger than the largest allowed, /16");
    CHECK_THROWS_AS(parse_search_subnet("10.0.0.0"), storkit::ConfigError);
    CHECK_THROWS_AS(parse_search_subnet("10.0.0.0/33"), storkit::ConfigError);
    CHECK_THROWS_AS(parse_search_subnet("10.0.0.256/24"), storkit::ConfigError);
}

TEST_CASE("a BMC's name comes from its place in the subnet, not from who else answers",
          "[discover]") {
    storkit::Subnet s24 = parse_search_subnet("10.0.0.0/24");
    CHECK(storkit::bmc_name(s24, *storkit::parse_ipv4("10.0.0.11"), "node") == "node011");
    CHECK(storkit::bmc_name(s24, *storkit::parse_ipv4("10.0.0.254"), "node") == "node254");
    storkit::Subnet s16 = parse_search_subnet("10.7.0.0/16");
    CHECK(storkit::bmc_name(s16, *storkit::parse_ipv4("10.7.1.2"), "n") == "n00258");
    storkit::Subnet s28 = parse_search_subnet("10.0.0.16/28");
    CHECK(storkit::bmc_name(s28, *storkit::parse_ipv4("10.0.0.21"), "node") == "node05");
}
