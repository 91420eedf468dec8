// pxe-monitor's judgement, tick by tick, on tables as pxe-report and pxe-provision write them.
#include "pxe/monitor.h"

#include <catch2/catch.hpp>

using namespace storkit;
using nlohmann::json;

namespace {

MonitorSettings settings() {
    MonitorSettings s;
    s.dhcp_s = 60;
    s.kickstart_s = 30;
    s.heartbeat_s = 20;
    s.install_s = 300;
    return s;
}

// A table row for `node` powered at `powered`.
json row(const std::string& node, double powered) {
    return {{"name", node},     {"bmc", "198.18.1.1"},   {"mac", "52:54:00:00:00:01"},
            {"ip", nullptr},    {"powered_at", powered}, {"boot_files", json::array()},
            {"phase", nullptr}, {"phase_time", nullptr}};
}

json leased(json r, double at) {
    r["ip"] = "198.18.0.100";
    r["last_seen"] = at;
    return r;
}

json reported(json r, const std::string& phase, double at, const std::string& detail = "") {
    r["phase"] = phase;
    r["phase_time"] = at;
    r["phase_detail"] = detail;
    return r;
}

json table(std::vector<json> rows) {
    return {{"nodes", rows}};
}

}  // namespace

TEST_CASE("an install that goes through every phase succeeds once") {
    WatchState w;
    MonitorSettings s = settings();
    CHECK(monitor_tick(table({row("n1", 1000)}), w, s, 1010).empty());
    CHECK(w["n1"].phase == "powered");
    CHECK(monitor_tick(table({leased(row("n1", 1000), 1020)}), w, s, 1025).empty());
    CHECK(w["n1"].phase == "dhcp");
    json r = leased(row("n1", 1000), 1020);
    r["boot_files"] = json::array({{{"file", "grubx64.efi"}, {"size", 1}, {"time", 1022}}});
    CHECK(monitor_tick(table({r}), w, s, 1030).empty());
    CHECK(w["n1"].phase == "boot-files");
    CHECK(monitor_tick(table({reported(r, "started", 1040)}), w, s, 1045).empty());
    CHECK(monitor_tick(table({reported(r, "heartbeat", 1055)}), w, s, 1070).empty());
    auto ev = monitor_tick(table({reported(r, "finished", 1090, "ok")}), w, s, 1095);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].result == "succeeded");
    CHECK(ev[0].node == "n1");
    CHECK(w["n1"].done());
    // Later ticks say nothing more about it, even past every deadline.
    CHECK(monitor_tick(table({reported(r, "finished", 1090)}), w, s, 5000).empty());
}

TEST_CASE("each deadline is reported on the first tick after it, naming its phase") {
    MonitorSettings s = settings();
    SECTION("dhcp") {
        WatchState w;
        CHECK(monitor_tick(table({row("n1", 1000)}), w, s, 1060).empty());  // at, not after
        auto ev = monitor_tick(table({row("n1", 1000)}), w, s, 1061);
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].result == "timed-out");
        CHECK(ev[0].phase == "dhcp");
        CHECK(ev[0].detail == "no DHCP lease 60 s after power-on");
    }
    SECTION("kickstart: a lease but no report") {
        WatchState w;
        json r = leased(row("n1", 1000), 1010);
        CHECK(monitor_tick(table({r}), w, s, 1040).empty());
        auto ev = monitor_tick(table({r}), w, s, 1041);
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].phase == "kickstart");
        CHECK(ev[0].detail ==
              "no report from the installer 30 s after the lease (no boot file fetched)");
    }
    SECTION("heartbeat: reports stop") {
        WatchState w;
        json r = reported(leased(row("n1", 1000), 1010), "started", 1020);
        CHECK(monitor_tick(table({r}), w, s, 1040).empty());
        auto ev = monitor_tick(table({r}), w, s, 1041);
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].phase == "heartbeat");
        CHECK(ev[0].detail == "no report for 21 s (last: started)");
    }
    SECTION("install: heartbeats forever, never finished") {
        WatchState w;
        json r = leased(row("n1", 1000), 1010);
        std::vector<MonitorEvent> ev;
        for (double t = 1020; t <= 1310 && ev.empty(); t += 10)
            ev = monitor_tick(table({reported(r, "heartbeat", t)}), w, s, t + 1);
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].phase == "install");
        CHECK(ev[0].time == 1301);
    }
}

TEST_CASE("a failure is reported with the node's words") {
    WatchState w;
    json r = reported(leased(row("n1", 1000), 1010), "failed", 1030, "anaconda: no disk");
    auto ev = monitor_tick(table({r}), w, settings(), 1031);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].result == "failed");
    CHECK(ev[0].detail == "anaconda: no disk");
}

TEST_CASE("what happened before the power-on does not count") {
    WatchState w;
    // The last install's lease and "finished" are older than this power-on.
    json r = reported(leased(row("n1", 1000), 900), "finished", 950);
    CHECK(monitor_tick(table({r}), w, settings(), 1010).empty());
    CHECK(w["n1"].phase == "powered");
    auto ev = monitor_tick(table({r}), w, settings(), 1061);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].phase == "dhcp");
}

TEST_CASE("a new power-on starts a new watch") {
    WatchState w;
    MonitorSettings s = settings();
    REQUIRE(monitor_tick(table({row("n1", 1000)}), w, s, 1061).size() == 1);
    CHECK(w["n1"].done());
    CHECK(monitor_tick(table({row("n1", 2000)}), w, s, 2001).empty());
    CHECK_FALSE(w["n1"].done());
    CHECK(w["n1"].powered_at == 2000);
}

TEST_CASE("nodes never powered are not watched; each node on its own") {
    WatchState w;
    json never = row("n0", 0);
    never["powered_at"] = nullptr;
    auto ev = monitor_tick(table({never, row("n1", 1000), leased(row("n2", 1000), 1040)}), w,
                           settings(), 1061);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].node == "n1");
    CHECK(w.count("n0") == 0);
}

TEST_CASE("retries: power-cycles first, then the timeout is the result") {
    WatchState w;
    MonitorSettings s = settings();
    s.retries = 1;
    auto ev = monitor_tick(table({row("n1", 1000)}), w, s, 1061);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].result == "retry");
    CHECK(ev[0].detail == "no DHCP lease 60 s after power-on; power-cycle 1 of 1");
    note_retry(w["n1"], 1062);
    CHECK(monitor_tick(table({row("n1", 1000)}), w, s, 1100).empty());  // timed from 1062
    ev = monitor_tick(table({row("n1", 1000)}), w, s, 1123);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].result == "timed-out");
}

TEST_CASE("the watch state survives a round trip") {
    WatchState w;
    monitor_tick(table({reported(leased(row("n1", 1000), 1010), "started", 1020)}), w, settings(),
                 1021);
    Watch back = Watch::from_json(w["n1"].to_json());
    CHECK(back.to_json() == w["n1"].to_json());
    CHECK(back.started_at == 1020);
}
