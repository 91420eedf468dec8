#include "pxe/boot_plan.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using storkit::BootSettings;
using storkit::BootState;
using storkit::BootStep;
using storkit::DhcpLeaseTable;
using storkit::NodeBoot;
using storkit::plan_boot;
using storkit::PlanEntry;
using Names = std::vector<std::string>;

namespace {

PlanEntry node(const std::string& name, const std::string& mac, const std::string& bmc = "b") {
    return {name, bmc == "b" ? name + "-bmc:623" : bmc, mac, false};
}

BootSettings settings(size_t wave, double interval, double bind_timeout = 60) {
    BootSettings s;
    s.wave = wave;
    s.interval_s = interval;
    s.bind_timeout_s = bind_timeout;
    return s;
}

void powered(BootState& st, const Names& names, double at, NodeBoot state) {
    for (const std::string& n : names) {
        st.nodes[n].state = state;
        st.nodes[n].powered_at = at;
    }
    st.last_wave = at;
}

storkit::PxeEvent lease(const std::string& mac, const std::string& ip, double t) {
    storkit::PxeEvent e;
    e.kind = "dhcp";
    e.action = "add";
    e.mac = mac;
    e.ip = ip;
    e.time = t;
    return e;
}

}  // namespace

TEST_CASE("nodes with known MACs go in waves, waves an interval apart", "[boot_plan]") {
    std::vector<PlanEntry> nodes = {node("n1", "m1"), node("n2", "m2"), node("n3", "m3"),
                                    node("n4", "m4"), node("n5", "m5")};
    BootState st;
    DhcpLeaseTable leases;
    BootSettings s = settings(2, 10);
    BootStep step = plan_boot(nodes, st, leases, s, 100);
    CHECK(step.kind == BootStep::kPower);
    CHECK(step.nodes == Names{"n1", "n2"});
    powered(st, step.nodes, 100, NodeBoot::kBooted);

    step = plan_boot(nodes, st, leases, s, 105);
    CHECK(step.kind == BootStep::kWait);
    CHECK(step.at == 110);
    step = plan_boot(nodes, st, leases, s, 110);
    CHECK(step.nodes == Names{"n3", "n4"});
    powered(st, step.nodes, 110, NodeBoot::kBooted);
    step = plan_boot(nodes, st, leases, s, 120);
    CHECK(step.nodes == Names{"n5"});
    powered(st, step.nodes, 120, NodeBoot::kFailed);  // a failed BMC is not tried again
    CHECK(plan_boot(nodes, st, leases, s, 200).kind == BootStep::kDone);
}

TEST_CASE("a node without a MAC is powered alone and bound to the first new lease", "[boot_plan]") {
    std::vector<PlanEntry> nodes = {node("n1", "m1"), node("n2", ""), node("n3", "m3")};
    BootState st;
    DhcpLeaseTable leases;
    leases.apply(lease("old-machine", "10.0.0.9", 5));  // leased before anything was powered
    BootSettings s = settings(3, 1, 30);
    BootStep step = plan_boot(nodes, st, leases, s, 100);
    CHECK(step.nodes == Names{"n1"});  // the wave stops before the node without a MAC
    powered(st, step.nodes, 100, NodeBoot::kBooted);
    step = plan_boot(nodes, st, leases, s, 101);
    CHECK(step.kind == BootStep::kPower);
    CHECK(step.nodes == Names{"n2"});
    powered(st, step.nodes, 101, NodeBoot::kWaiting);

    step = plan_boot(nodes, st, leases, s, 102);
    CHECK(step.kind == BootStep::kWait);  // nothing else boots while n2 waits
    CHECK(step.nodes == Names{"n2"});
    leases.apply(lease("m1", "10.0.0.11", 103));  // n1's MAC is known: not n2's
    leases.apply(lease("old-machine", "10.0.0.9", 103));
    CHECK(plan_boot(nodes, st, leases, s, 104).kind == BootStep::kWait);
    leases.apply(lease("m-new", "10.0.0.12", 105));
    step = plan_boot(nodes, st, leases, s, 106);
    CHECK(step.kind == BootStep::kWait);  // bound once it has stayed the only new MAC a while
    CHECK(step.at <= 107);
    step = plan_boot(nodes, st, leases, s, 107);
    CHECK(step.kind == BootStep::kBind);
    CHECK(step.nodes == Names{"n2"});
    CHECK(step.mac == "m-new");
    CHECK(step.ip == "10.0.0.12");
}

TEST_CASE("a node whose lease does not come in time is given up", "[boot_plan]") {
    std::vector<PlanEntry> nodes = {node("n1", ""), node("n2", "")};
    BootState st;
    DhcpLeaseTable leases;
    BootSettings s = settings(1, 1, 30);
    powered(st, {"n1"}, 100, NodeBoot::kWaiting);
    BootStep step = plan_boot(nodes, st, leases, s, 129);
    CHECK(step.kind == BootStep::kWait);
    CHECK(step.at <= 130);
    step = plan_boot(nodes, st, leases, s, 130);
    CHECK(step.kind == BootStep::kUnbind);
    CHECK(step.nodes == Names{"n1"});
    st.nodes["n1"].state = NodeBoot::kUnbound;
    CHECK(plan_boot(nodes, st, leases, s, 131).nodes == Names{"n2"});
    // A MAC bound to n1 earlier is not n2's, even if it leases again.
    st.nodes["n1"].mac = "m-late";
    powered(st, {"n2"}, 140, NodeBoot::kWaiting);
    leases.apply(lease("m-late", "10.0.0.5", 141));
    CHECK(plan_boot(nodes, st, leases, s, 142).kind == BootStep::kWait);
}

TEST_CASE("a MAC binds to the right node or to none", "[boot_plan]") {
    std::vector<PlanEntry> nodes = {node("n1", ""), node("n2", ""), node("n3", "m3")};
    BootState st;
    st.started = 50;
    DhcpLeaseTable leases;
    BootSettings s = settings(1, 1, 30);
    SECTION("two new MACs in one window: the node is given up, both are unclaimed") {
        powered(st, {"n1"}, 100, NodeBoot::kWaiting);
        leases.apply(lease("m-a", "10.0.0.5", 101));
        leases.apply(lease("m-b", "10.0.0.6", 102));
        BootStep step = plan_boot(nodes, st, leases, s, 103);
        CHECK(step.kind == BootStep::kUnbind);
        CHECK(step.nodes == Names{"n1"});
        CHECK(step.unclaimed == Names{"m-a", "m-b"});
        CHECK_THAT(step.why, Catch::Contains("2 new MACs leased within its window (m-a, m-b)"));
    }
    SECTION("a lease replayed by dnsmasq, or one before the power-on, is nobody's boot") {
        leases.apply(lease("m-early", "10.0.0.4", 99));
        storkit::PxeEvent replay = lease("m-replay", "10.0.0.7", 101);
        replay.action = "old";
        leases.apply(replay);
        powered(st, {"n1"}, 100, NodeBoot::kWaiting);
        CHECK(plan_boot(nodes, st, leases, s, 102).kind == BootStep::kWait);
        // A lease after the window is not the node's either.
        leases.apply(lease("m-late", "10.0.0.8", 131));
        BootStep step = plan_boot(nodes, st, leases, s, 132);
        CHECK(step.kind == BootStep::kUnbind);
        CHECK_THAT(step.why, Catch::Contains("no new lease within 30 s"));
    }
    SECTION("while a given-up node's power-off failed, no node without a MAC is powered") {
        powered(st, {"n1"}, 100, NodeBoot::kOffFailed);
        BootStep step = plan_boot(nodes, st, leases, s, 140);
        CHECK(step.kind == BootStep::kPower);
        CHECK(step.nodes == Names{"n3"});  // its MAC is known: its lease tells it apart
        powered(st, {"n3"}, 140, NodeBoot::kBooted);
        CHECK(plan_boot(nodes, st, leases, s, 150).kind == BootStep::kDone);
        st.nodes["n1"].state = NodeBoot::kUnbound;  // off at last
        CHECK(plan_boot(nodes, st, leases, s, 150).nodes == Names{"n2"});
    }
    SECTION("new leases no node can have are unclaimed, with why") {
        leases.apply(lease("m-stray", "10.0.0.9", 60));   // nobody was waiting
        leases.apply(lease("m3", "10.0.0.3", 61));        // n3's: claimed
        leases.apply(lease("m-before", "10.0.0.2", 40));  // before the run: not new
        powered(st, {"n1"}, 100, NodeBoot::kWaiting);
        leases.apply(lease("m-n1", "10.0.0.10", 105));  // n1 may still bind it
        auto found = storkit::new_unclaimed(nodes, st, leases, s);
        REQUIRE(found.size() == 1);
        CHECK(found.at("m-stray").ip == "10.0.0.9");
        CHECK(found.at("m-stray").why == "leased while no node without a MAC was waiting for one");
        // n1 bound to m-n1; a second new MAC in its window is unclaimed, naming n1.
        st.nodes["n1"].state = NodeBoot::kBound;
        st.nodes["n1"].mac = "m-n1";
        st.unclaimed = found;
        leases.apply(lease("m-second", "10.0.0.11", 107));
        found = storkit::new_unclaimed(nodes, st, leases, s);
        REQUIRE(found.size() == 1);
        CHECK(found.at("m-second").why == "leased in the window of n1, already bound to m-n1");
    }
    SECTION("an unclaimed MAC binds when it asks again inside a node's window") {
        leases.apply(lease("m-real", "10.0.0.9", 60));
        st.unclaimed["m-real"] = {"10.0.0.9", 60, "unbound from n2"};
        powered(st, {"n1"}, 100, NodeBoot::kWaiting);
        CHECK(plan_boot(nodes, st, leases, s, 101).kind == BootStep::kWait);
        leases.apply(lease("m-real", "10.0.0.12", 102));
        BootStep step = plan_boot(nodes, st, leases, s, 104);
        CHECK(step.kind == BootStep::kBind);
        CHECK(step.mac == "m-real");
        CHECK(step.ip == "10.0.0.12");
    }
}

TEST_CASE("nodes without a BMC are never powered; bound nodes again once reserved", "[boot_plan]") {
    std::vector<PlanEntry> nodes = {node("n1", "m1", ""), node("n2", "m2")};
    BootState st;
    DhcpLeaseTable leases;
    BootSettings s = settings(5, 1);
    CHECK(plan_boot(nodes, st, leases, s, 100).nodes == Names{"n2"});
    st.nodes["n2"].state = NodeBoot::kBound;
    CHECK(plan_boot(nodes, st, leases, s, 100).kind == BootStep::kDone);
    nodes[1].reserved = true;  // prepare wrote its reservation
    CHECK(plan_boot(nodes, st, leases, s, 100).nodes == Names{"n2"});
}

TEST_CASE("the boot state survives its JSON form", "[boot_plan]") {
    BootState st;
    st.started = 1;
    st.last_wave = 2;
    st.nodes["n1"].state = NodeBoot::kBound;
    st.nodes["n1"].mac = "52:54:00:00:00:01";
    st.nodes["n1"].power_ons = 2;
    st.nodes["n2"].state = NodeBoot::kOffFailed;
    st.nodes["n2"].given_up_at = 3;
    st.unclaimed["52:54:00:00:00:09"] = {"198.18.0.9", 4, "leased while no node ..."};
    BootState back = BootState::from_json(st.to_json(), "boot.json");
    CHECK(back.to_json() == st.to_json());
    nlohmann::json bad = st.to_json();
    bad["nodes"]["n1"]["state"] = "flying";
    CHECK_THROWS_WITH(BootState::from_json(bad, "boot.json"), Catch::Contains("flying"));
    CHECK_THROWS_AS(BootState::from_json(nlohmann::json::array(), "boot.json"), storkit::Error);
    // Out of range or of the wrong type: an Error naming the file and the node, never a value
    // made up by a cast (1e30 as an int) nor nlohmann's bare type_error.
    bad = st.to_json();
    bad["nodes"]["n1"]["power_ons"] = 1e30;
    CHECK_THROWS_WITH(BootState::from_json(bad, "boot.json"),
                      Catch::StartsWith("boot.json: node n1: \"power_ons\" is not an integer"));
    bad = st.to_json();
    bad["nodes"]["n2"]["powered_at"] = "yesterday";
    CHECK_THROWS_WITH(BootState::from_json(bad, "boot.json"),
                      Catch::StartsWith("boot.json: node n2: "));
    bad = st.to_json();
    bad["started"] = "x";
    CHECK_THROWS_AS(BootState::from_json(bad, "boot.json"), storkit::Error);
}

TEST_CASE("boot columns: a phase reported before the last power-on is cleared") {
    nlohmann::json table = {{"nodes",
                             {{{"name", "n1"}, {"phase", "finished"}, {"phase_time", 900.0}},
                              {{"name", "n2"}, {"phase", "started"}, {"phase_time", 1100.0}}}}};
    BootState boot;
    boot.nodes["n1"].powered_at = 1000;
    boot.nodes["n2"].powered_at = 1000;
    add_boot_columns(table, boot);
    CHECK(table["nodes"][0]["phase"].is_null());
    CHECK(table["nodes"][0]["powered_at"] == 1000.0);
    CHECK(table["nodes"][1]["phase"] == "started");
}
