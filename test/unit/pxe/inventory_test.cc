#include "pxe/inventory.h"

#include <catch2/catch.hpp>

#include "core/error.h"
#include "pxe/fixture.h"

using namespace storkit;
using Catch::Contains;
using nlohmann::json;

namespace {

std::map<std::string, std::string> addresses(const Inventory& inv) {
    std::map<std::string, std::string> out;
    for (const InventoryRow& n : inv.nodes) out[n.name] = ipv4_string(n.ip);
    return out;
}

NodeEntry spec(const std::string& name, const char* bmc, const char* mac, const char* ip) {
    NodeEntry s;
    s.name = name;
    if (bmc) s.bmc = parse_ipv4(bmc);
    if (mac) s.mac = mac;
    if (ip) s.ip = parse_ipv4(ip);
    return s;
}

}  // namespace

TEST_CASE("addresses come from the pool in BMC order, skipping fixed ones") {
    test::PxeFixture f;
    f.config["data"]["pool"] = "198.18.0.100-198.18.0.103";
    f.config["nodes"] = {{"a", {{"bmc", "198.18.64.30"}}},
                         {"b", {{"bmc", "198.18.64.10"}}},
                         {"c", {{"ip", "198.18.0.100"}}},
                         {"d", json::object()}};
    PxeConfig cfg = f.load();
    Inventory inv = build_inventory(cfg, {});
    CHECK(addresses(inv) == std::map<std::string, std::string>{{"a", "198.18.0.102"},
                                                               {"b", "198.18.0.101"},
                                                               {"c", "198.18.0.100"},
                                                               {"d", "198.18.0.103"}});
    CHECK(inv.notes.empty());

    // One more node than addresses.
    f.config["nodes"]["e"] = json::object();
    CHECK_THROWS_WITH(build_inventory(f.load(), {}),
                      Contains("key 'data.pool': 198.18.0.100-198.18.0.103 has 4 addresses, too "
                               "few for 4 nodes without a fixed ip"));
}

TEST_CASE("a node keeps its address when nodes are added before it") {
    test::PxeFixture f;
    f.config["nodes"] = {{"n5", {{"bmc", "198.18.64.50"}}}};
    Inventory first = build_inventory(f.load(), {});
    CHECK(addresses(first)["n5"] == "198.18.0.100");
    std::vector<NodeEntry> table =
        parse_node_table(node_table_text(node_table_entries(first.nodes)), "nodes.json");
    // A node with a lower BMC address would come first in a fresh assignment.
    f.config["nodes"]["n1"] = {{"bmc", "198.18.64.10"}};
    Inventory second = build_inventory(f.load(), table);
    CHECK(addresses(second)["n5"] == "198.18.0.100");
    CHECK(addresses(second)["n1"] == "198.18.0.101");
    // A fixed address wins over a remembered one; the displaced node moves, with a note.
    f.config["nodes"]["n1"]["ip"] = "198.18.0.100";
    Inventory third = build_inventory(f.load(), table);
    CHECK(addresses(third)["n1"] == "198.18.0.100");
    CHECK(addresses(third)["n5"] == "198.18.0.101");
    REQUIRE(third.notes.size() == 1);
    CHECK(third.notes[0] ==
          "node n5: address 198.18.0.100 is no longer free in the pool; "
          "assigning another");
}

TEST_CASE("learned MACs from the node table") {
    test::PxeFixture f;
    f.config["nodes"] = {{"n1", {{"bmc", "198.18.64.11"}}},
                         {"n2", {{"bmc", "198.18.64.12"}, {"mac", "52:54:00:00:00:0b"}}}};
    PxeConfig cfg = f.load();
    std::vector<NodeEntry> table = {spec("n1", "198.18.64.11", "52:54:00:00:00:0a", nullptr)};
    Inventory inv = build_inventory(cfg, table);
    CHECK(inv.nodes[0].mac == "52:54:00:00:00:0a");
    // A learned MAC that the config now gives to another node is dropped.
    table[0].mac = "52:54:00:00:00:0b";
    inv = build_inventory(cfg, table);
    CHECK(inv.nodes[0].mac.empty());
    CHECK(inv.notes.at(0) ==
          "node n1: learned MAC 52:54:00:00:00:0b now belongs to another node; "
          "dropped");
}

TEST_CASE("without nodes in the config, the table's nodes are the nodes") {
    test::PxeFixture f;
    f.config.erase("nodes");
    std::vector<NodeEntry> table = {
        spec("x1", "198.18.64.21", "52:54:00:00:00:21", nullptr),
        spec("x2", "198.18.64.22", "52:54:00:00:00:21", "198.18.0.150")};
    Inventory inv = build_inventory(f.load(), table);
    REQUIRE(inv.nodes.size() == 2);
    CHECK(addresses(inv) ==
          std::map<std::string, std::string>{{"x1", "198.18.0.100"}, {"x2", "198.18.0.150"}});
    CHECK(inv.nodes[1].mac.empty());  // a duplicate MAC is dropped, with a note
    CHECK(inv.notes.size() == 1);
}

TEST_CASE("the node table file") {
    InventoryRow n{"n1", parse_ipv4("198.18.64.11"), "52:54:00:00:00:01",
                   *parse_ipv4("198.18.0.100")};
    std::string text = node_table_text(node_table_entries({n}));
    CHECK(json::parse(text) ==
          json::parse(R"({"nodes": {"n1": {"bmc": "198.18.64.11", "mac": "52:54:00:00:00:01",
                                           "ip": "198.18.0.100"}}})"));
    std::vector<NodeEntry> back = parse_node_table(text, "t");
    REQUIRE(back.size() == 1);
    CHECK(back[0].mac == "52:54:00:00:00:01");
    CHECK_THROWS_WITH(parse_node_table("{", "/s/nodes.json"),
                      "/s/nodes.json: node table is not valid JSON (remove it to start over)");
    CHECK_THROWS_WITH(parse_node_table(R"({"nodes": {"n1": {"mac": "zz"}}})", "/s/nodes.json"),
                      "/s/nodes.json: node n1: mac \"zz\" is not a MAC address");
    CHECK_THROWS_WITH(parse_node_table(R"({"nodes": {"n1": {"ip": "x"}}})", "/s/nodes.json"),
                      "/s/nodes.json: node n1: ip \"x\" is not an IPv4 address");
    CHECK_THROWS_WITH(parse_node_table(R"({"nodes": []})", "/s/nodes.json"),
                      "/s/nodes.json: node table has no \"nodes\" object");
    CHECK(parse_node_table("{}", "t").empty());
}

TEST_CASE("boot order: config order keys, then enrollment, then name") {
    std::vector<InventoryRow> rows = {
        {"a", {}, "", 0, 0, 0}, {"b", {}, "", 0, 300, 0}, {"c", {}, "", 0, 100, 0},
        {"d", {}, "", 0, 0, 2}, {"e", {}, "", 0, 50, 1},  {"f", {}, "", 0, 0, 0},
    };
    std::vector<std::string> order;
    for (size_t i : boot_order(rows)) order.push_back(rows[i].name);
    CHECK(order == std::vector<std::string>{"e", "d", "c", "b", "a", "f"});
}

TEST_CASE("the node table keeps enrollment times, and prepare's rewrite keeps them too") {
    NodeEntry n{"n1", parse_ipv4("198.18.64.11"), "52:54:00:00:00:01", std::nullopt};
    n.enrolled_at = 1800000000.25;
    std::vector<NodeEntry> back = parse_node_table(node_table_text({n}), "t");
    REQUIRE(back.size() == 1);
    CHECK(back[0].enrolled_at == 1800000000.25);
    CHECK_THROWS_WITH(parse_node_table(R"({"nodes": {"n1": {"enrolled_at": "x"}}})", "t.json"),
                      "t.json: node n1: \"enrolled_at\" is not a time in seconds");
    std::vector<InventoryRow> rows = {{"n1", {}, "", 0, 1800000000.25, 0}};
    CHECK(node_table_entries(rows)[0].enrolled_at == 1800000000.25);
}
