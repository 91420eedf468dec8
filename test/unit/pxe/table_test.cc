#include "pxe/table.h"

#include <catch2/catch.hpp>
#include <cstdio>

using storkit::DhcpLeaseTable;
using storkit::PxeEvent;

namespace {

PxeEvent dhcp(const std::string& action, const std::string& mac, const std::string& ip, double t) {
    PxeEvent e;
    e.kind = "dhcp";
    e.action = action;
    e.mac = mac;
    e.ip = ip;
    e.time = t;
    return e;
}

PxeEvent tftp(const std::string& ip, const std::string& file, double t) {
    PxeEvent e;
    e.kind = "tftp";
    e.action = "tftp";
    e.ip = ip;
    e.file = file;
    e.size = 100;
    e.time = t;
    return e;
}

const char* kMac1 = "52:54:00:00:00:01";
const char* kMac2 = "52:54:00:00:00:02";
const char* kMac3 = "52:54:00:00:00:03";

}  // namespace

TEST_CASE("leases keep first and last sight, release, boot files and phase", "[pxe_table]") {
    DhcpLeaseTable t;
    CHECK(t.apply(dhcp("add", kMac1, "198.18.0.100", 10)));
    CHECK(t.apply(dhcp("old", kMac1, "198.18.0.100", 20)));
    CHECK(t.apply(tftp("198.18.0.100", "ipxe.efi", 21)));
    CHECK_FALSE(t.apply(tftp("198.18.0.199", "stray", 22)));  // nobody has that address
    PxeEvent p;
    p.kind = "phase";
    p.phase = "installing";
    p.ip = "198.18.0.100";
    p.time = 30;
    CHECK(t.apply(p));
    const storkit::DhcpLease& r = t.leases().at(kMac1);
    CHECK(r.first_seen == 10);
    CHECK(r.last_seen == 20);
    CHECK(r.active);
    REQUIRE(r.boot_files.size() == 1);
    CHECK(r.boot_files[0].file == "ipxe.efi");
    CHECK(r.phase == "installing");
    CHECK(t.apply(dhcp("del", kMac1, "198.18.0.100", 40)));
    CHECK_FALSE(t.leases().at(kMac1).active);
    CHECK(t.leases().at(kMac1).released == 40);
    CHECK_FALSE(t.mac_of_ip("198.18.0.100"));  // released: the address is free again
}

TEST_CASE("made-up MACs and boot loops cannot grow the table without bound", "[pxe_table]") {
    DhcpLeaseTable t;
    // A node's lease, renewed all along; an early machine that released its lease.
    CHECK(t.apply(dhcp("add", kMac1, "198.18.0.100", 1)));
    CHECK(t.apply(dhcp("add", kMac2, "198.18.0.101", 2)));
    CHECK(t.apply(dhcp("del", kMac2, "198.18.0.101", 3)));
    size_t made_up = DhcpLeaseTable::kMaxLeaseRows + 500;
    for (size_t i = 0; i < made_up; ++i) {
        char mac[18];
        std::snprintf(mac, sizeof mac, "02:00:00:%02zx:%02zx:%02zx", (i >> 16) & 0xff,
                      (i >> 8) & 0xff, i & 0xff);
        t.apply(dhcp("add", mac, "198.18.1.1", 10.0 + static_cast<double>(i)));
        if (i % 1000 == 0) t.apply(dhcp("old", kMac1, "198.18.0.100", 10.0 + i));
    }
    CHECK(t.leases().size() == DhcpLeaseTable::kMaxLeaseRows);
    CHECK(t.leases().count(kMac1) == 1);  // renewed: seen recently, kept
    CHECK(t.leases().count(kMac2) == 0);  // released long ago: the first to go
    CHECK(t.leases().count("02:00:00:00:00:00") == 0);
    CHECK(t.leases().count("02:00:00:00:4e:33") == 1);  // the latest made-up ones stay

    for (int i = 0; i < 1000; ++i) t.apply(tftp("198.18.0.100", "pxelinux.0", 30000.0 + i));
    const auto& files = t.leases().at(kMac1).boot_files;
    CHECK(files.size() == DhcpLeaseTable::kMaxBootFiles);
    CHECK(files.back().time == 30999.0);
}

TEST_CASE("an address belongs to the MAC that leased it last", "[pxe_table]") {
    DhcpLeaseTable t;
    t.apply(dhcp("add", kMac1, "198.18.0.100", 10));
    t.apply(dhcp("add", kMac2, "198.18.0.100", 20));
    CHECK(t.mac_of_ip("198.18.0.100") == std::string(kMac2));
}

TEST_CASE("the lease table survives its JSON form", "[pxe_table]") {
    DhcpLeaseTable t;
    t.apply(dhcp("add", kMac1, "198.18.0.100", 10));
    t.apply(tftp("198.18.0.100", "pxelinux.0", 11));
    t.applied_bytes = 1234;
    DhcpLeaseTable back = DhcpLeaseTable::from_json(t.to_json(), "leases.json");
    CHECK(back.applied_bytes == 1234);
    CHECK(back.to_json() == t.to_json());
    CHECK_THROWS_WITH(DhcpLeaseTable::from_json(nlohmann::json::array(), "x.json"),
                      Catch::Contains("x.json"));
}

TEST_CASE("the joined table maps node -> BMC -> MAC -> DHCP address", "[pxe_table]") {
    std::vector<storkit::NodeEntry> nodes = storkit::parse_node_table(
        R"({"nodes": {"node2": {"bmc": "10.0.0.12"},
                      "node1": {"bmc": "10.0.0.11", "mac": "52-54-00-00-00-01"}}})",
        "nodes.json");
    REQUIRE(nodes.size() == 2);
    CHECK(nodes[0].name == "node1");
    CHECK(nodes[0].mac == kMac1);
    DhcpLeaseTable t;
    t.apply(dhcp("add", kMac1, "198.18.0.100", 10));
    t.apply(dhcp("add", kMac3, "198.18.0.103", 11));
    nlohmann::json j = storkit::joined_table(nodes, t, 99);
    CHECK(j["nodes"][0]["bmc"] == "10.0.0.11");
    CHECK(j["nodes"][0]["ip"] == "198.18.0.100");
    CHECK(j["nodes"][0]["first_seen"] == 10.0);
    CHECK(j["nodes"][1]["mac"].is_null());
    CHECK(j["nodes"][1]["ip"].is_null());
    REQUIRE(j["unbound"].size() == 1);
    CHECK(j["unbound"][0]["mac"] == kMac3);
    CHECK_THROWS(storkit::parse_node_table("[1]", "nodes.json"));
    CHECK(storkit::parse_node_table("{}", "nodes.json").empty());
}
