#include "core/host_range.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using storkit::ConfigError;
using storkit::expand_hosts;
using Hosts = std::vector<std::string>;

TEST_CASE("a bracket range expands in order and gets the default port", "[host_range]") {
    CHECK(expand_hosts("10.0.0.[11-13]", 623) ==
          Hosts{"10.0.0.11:623", "10.0.0.12:623", "10.0.0.13:623"});
}

TEST_CASE("numbers and ranges mix inside brackets, and a port applies to all", "[host_range]") {
    CHECK(expand_hosts("127.0.0.[1-3,9]:624", 623) ==
          Hosts{"127.0.0.1:624", "127.0.0.2:624", "127.0.0.3:624", "127.0.0.9:624"});
}

TEST_CASE("comma lists outside brackets are separate entries", "[host_range]") {
    CHECK(expand_hosts("bmc1,10.0.0.[1-2]:700,bmc2:624", 623) ==
          Hosts{"bmc1:623", "10.0.0.1:700", "10.0.0.2:700", "bmc2:624"});
}

TEST_CASE("a leading zero keeps the width", "[host_range]") {
    CHECK(expand_hosts("n[08-10].lab", 623) == Hosts{"n08.lab:623", "n09.lab:623", "n10.lab:623"});
    CHECK(expand_hosts("n[8-10]", 623) == Hosts{"n8:623", "n9:623", "n10:623"});
}

TEST_CASE("several brackets multiply out", "[host_range]") {
    CHECK(expand_hosts("10.0.[1-2].[5,7]", 623) ==
          Hosts{"10.0.1.5:623", "10.0.1.7:623", "10.0.2.5:623", "10.0.2.7:623"});
}

TEST_CASE("bad ranges are refused with the entry named", "[host_range]") {
    CHECK_THROWS_WITH(expand_hosts("10.0.0.[5-1]", 623),
                      Catch::Contains("10.0.0.[5-1]") && Catch::Contains("backwards"));
    CHECK_THROWS_AS(expand_hosts("a,,b", 623), ConfigError);
    CHECK_THROWS_AS(expand_hosts("a,", 623), ConfigError);
    CHECK_THROWS_AS(expand_hosts("10.0.0.[1-2", 623), ConfigError);
    CHECK_THROWS_AS(expand_hosts("10.0.0.1-2]", 623), ConfigError);
    CHECK_THROWS_AS(expand_hosts("10.0.0.[a-b]", 623), ConfigError);
    CHECK_THROWS_WITH(expand_hosts("10.0.0.1:0", 623), Catch::Contains("port 0"));
    CHECK_THROWS_AS(expand_hosts("10.0.0.1:99999", 623), ConfigError);
    CHECK_THROWS_AS(expand_hosts("10.0.0.1:", 623), ConfigError);
    CHECK_THROWS_AS(expand_hosts(":623", 623), ConfigError);
    CHECK_THROWS_WITH(expand_hosts("fe80::1", 623), Catch::Contains("IPv6"));
    CHECK_THROWS_AS(expand_hosts("bad host", 623), ConfigError);
    CHECK_THROWS_AS(expand_hosts("", 623), ConfigError);
}

TEST_CASE("a host given twice is refused (it would get two operations at once)", "[host_range]") {
    CHECK_THROWS_WITH(expand_hosts("10.0.0.[1-5],10.0.0.3", 623),
                      Catch::Contains("10.0.0.3:623 is given twice"));
    CHECK_THROWS_AS(expand_hosts("h:623,h", 623), ConfigError);
    CHECK(expand_hosts("h:623,h:624", 623).size() == 2);
}

TEST_CASE("a range too large to be meant is refused", "[host_range]") {
    CHECK_THROWS_WITH(expand_hosts("h[1-99999999]", 623), Catch::Contains("too large"));
    CHECK_THROWS_WITH(expand_hosts("10.[0-255].[0-255].[0-255]", 623),
                      Catch::Contains("more than"));
    CHECK(expand_hosts("h[1-65536]", 623).size() == storkit::kMaxHosts);
    // Several ranges in one bracket count together.
    CHECK_THROWS_WITH(expand_hosts("h[1-40000,1-40000]", 623), Catch::Contains("more than 65536"));
}

// Found by the address fuzzer: a 1.6 KB spec of a long name and a large range asked for 65536
// names of 1.6 KB each (over 2 GB with the set of names seen). A host name is at most 253
// characters, however it is spelled, and the message does not repeat the whole spec.
TEST_CASE("a host name longer than DNS allows is refused before it is multiplied", "[host_range]") {
    std::string name(300, 'a');
    CHECK_THROWS_WITH(expand_hosts(name + "[1-65536]", 623),
                      Catch::Contains("a host name longer than 253 characters"));
    CHECK_THROWS_WITH(expand_hosts("[1-65536]" + name, 623),
                      Catch::Contains("a host name longer than 253 characters"));
    CHECK_THROWS_WITH(expand_hosts("h[" + std::string(300, '0') + "1-9]", 623),
                      Catch::Contains("a host name longer than 253 characters"));
    CHECK_THROWS_WITH(expand_hosts(std::string(200, 'a') + "[1-9]" + std::string(60, 'b'), 623),
                      Catch::Contains("a host name longer than 253 characters"));
    try {
        expand_hosts(name + "[1-65536]", 623);
    } catch (const storkit::ConfigError& e) {
        CHECK(std::string(e.what()).size() < 200);
    }
    CHECK(expand_hosts(std::string(250, 'a') + "[1-9]", 623).size() == 9);
}
