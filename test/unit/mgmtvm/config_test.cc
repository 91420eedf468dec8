#include "mgmtvm/config.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "man_page.h"
#include "mgmtvm/storage.h"

using namespace storkit;

namespace {

// A config file in a fresh temp dir, removed afterwards.
struct TempConfig {
    std::string dir;
    std::string path;
    explicit TempConfig(const std::string& text) {
        char tmpl[] = "/tmp/storkit-unit.XXXXXX";
        dir = mkdtemp(tmpl);
        path = dir + "/mgmtvm.json";
        std::ofstream(path) << text;
    }
    ~TempConfig() { std::filesystem::remove_all(dir); }
};

const char* kGood = R"({
  "node": "node1",
  "vm": {"name": "mgmt", "domain_xml": "/etc/storkit/mgmtvm.xml"},
  "nodes": {"node2": {"libvirt": "qemu+ssh://node2/system"},
            "node1": {"libvirt": "qemu:///system"}},
  "storage": {"backend": "command",
              "service_health": ["/bin/true", "service"],
              "volume_health": ["/bin/true", "volume"],
              "is_master": ["/bin/true", "master"],
              "timeout_s": 3},
  "deadlines": {"tick_s": 56, "peer_s": 3, "stop_s": 14}
})";

// The message of the ConfigError that loading `text` throws ("" when it loads).
std::string load_error(const std::string& text, const std::string& node = "") {
    TempConfig t(text);
    try {
        MgmtvmConfig c = load_mgmtvm_config(t.path, node);
        make_storage(c.storage(), {c.node, c.vm_name, c.volume});
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        // Strip the temp path so the tests read well.
        for (size_t at; (at = msg.find(t.path)) != std::string::npos;)
            msg.replace(at, t.path.size(), "FILE");
        return msg;
    }
    return "";
}

std::string with(const std::string& from, const std::string& to) {
    std::string s = kGood;
    size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a good config loads with its values") {
    TempConfig t(kGood);
    MgmtvmConfig c = load_mgmtvm_config(t.path, "");
    CHECK(c.node == "node1");
    CHECK(c.vm_name == "mgmt");
    REQUIRE(c.nodes.size() == 2);
    CHECK(c.nodes[0].name == "node1");  // sorted
    CHECK(c.self().libvirt == "qemu:///system");
    CHECK(c.tick.count() == 56000);
    CHECK(c.peer.count() == 3000);
    CHECK(c.stop.count() == 14000);
    CHECK(c.state_dir == "/var/lib/storkit");
    CHECK(load_mgmtvm_config(t.path, "node2").self().name == "node2");
}

TEST_CASE("config errors name the file and the key path") {
    CHECK(load_error("{") == "FILE:1:1: invalid JSON");
    CHECK(load_error("[]") == "FILE: expected a JSON object at the top level");
    CHECK(load_error(with(R"("node": "node1",)", "")) == "FILE: key 'node': missing");
    CHECK(load_error(with(R"("node": "node1")", R"("node": "node9")")) ==
          "FILE: key 'node': \"node9\" is not one of nodes (node1, node2)");
    CHECK(load_error(kGood, "node7") ==
          "--node node7: not one of the nodes in FILE (node1, node2)");
    CHECK(load_error(with(R"("name": "mgmt")", R"("name": 7)")) ==
          "FILE: key 'vm.name': expected a non-empty string, got the number 7");
    CHECK(load_error(with("/etc/storkit/mgmtvm.xml", "mgmtvm.xml")) ==
          "FILE: key 'vm.domain_xml': expected an absolute path");
    CHECK(load_error(with(R"("libvirt": "qemu:///system")", R"("uri": "qemu:///system")")) ==
          "FILE: key 'nodes.node1.uri': unknown key (known here: libvirt)");
    CHECK(load_error(with(R"("timeout_s": 3)", R"("timeout_s": -1)")) ==
          "FILE: key 'storage.timeout_s': expected a number greater than 0 and at most 600, got "
          "the number -1");
    CHECK(load_error(with(R"(["/bin/true", "master"])", R"("stor-check master")")) ==
          "FILE: key 'storage.is_master': expected a command as a non-empty array of strings, got "
          "the string \"stor-check master\"");
    CHECK(load_error(with(R"(["/bin/true", "volume"])", R"(["stor-check", "volume"])")) ==
          "FILE: key 'storage.volume_health': the program must be an absolute path, got "
          "\"stor-check\"");
    CHECK(
        load_error(with(R"("backend": "command")", R"("backend": "zfs")")) ==
        "FILE: key 'storage.backend': unknown storage backend \"zfs\" (known: ceph, command, sim)");
    CHECK(load_error(with(R"("peer_s": 3)", R"("peer_s": 60)")) ==
          "FILE: key 'deadlines.peer_s': must be shorter than deadlines.tick_s, or no tick could "
          "finish");
    CHECK(load_error(with(R"("deadlines")", R"("deadline")")) ==
          "FILE: key 'deadline': unknown key (known here: node, vm, nodes, storage, deadlines, "
          "state_dir, lease, allow_start_with_unknown_peers, placement)");
    CHECK(load_error(with(R"("deadlines")", R"("lease": {"ticks": 1}, "deadlines")")) ==
          "FILE: key 'lease.ticks': expected an integer from 2 to 1000, got the number 1");
    CHECK(load_error(with(R"("nodes": {)", R"("nodes": {}, "x": {)")).find("unknown key") !=
          std::string::npos);
}

TEST_CASE("one run reports every bad key of the file, each on its own line") {
    std::string text = with(R"("name": "mgmt")", R"("name": 7)");
    text.replace(text.find(R"("timeout_s": 3)"), 14, R"("timeout": 3)");
    text.replace(text.find(R"("deadlines")"), 11, R"("lease": {"ticks": 1}, "deadlines")");
    CHECK(load_error(text) ==
          "FILE: key 'vm.name': expected a non-empty string, got the number 7\n"
          "FILE: key 'lease.ticks': expected an integer from 2 to 1000, got the number 1\n"
          "FILE: key 'storage.timeout': unknown key (known here: backend, service_health, "
          "volume_health, is_master, timeout_s, lease_acquire, lease_renew, lease_release, "
          "lease_holder, fence, shared_get, shared_put)");
    // What follows from a problem is not a problem of its own: no nodes, so no "node" check.
    std::string nodes = R"("nodes": {"node2": {"libvirt": "qemu+ssh://node2/system"},
            "node1": {"libvirt": "qemu:///system"}},)";
    CHECK(load_error(with(nodes, R"("nodes": 5,)")) ==
          "FILE: key 'nodes': expected an object, got the number 5");
    CHECK(load_error(with(nodes, R"("nodes": {},)")) ==
          "FILE: key 'nodes': expected at least one node");
    // An unknown storage backend is one problem, not one per key it does not know.
    CHECK(
        load_error(with(R"("backend": "command")", R"("backend": "zfs")")) ==
        "FILE: key 'storage.backend': unknown storage backend \"zfs\" (known: ceph, command, sim)");
}

TEST_CASE("a lease without fencing is refused unless lease.fencing says none") {
    std::string lease = R"("timeout_s": 3,
              "lease_acquire": ["/bin/true"], "lease_renew": ["/bin/true"],
              "lease_release": ["/bin/true"], "lease_holder": ["/bin/true"])";
    std::string text = with(R"("timeout_s": 3)", lease);
    CHECK(load_error(text) ==
          "FILE: key 'storage': a lease without fencing could start a second copy of the VM "
          "after a takeover: set storage.fence, or lease.fencing to \"none\" to accept that "
          "risk");
    std::string fenced = text;
    fenced.replace(fenced.find(lease), lease.size(), lease + R"(, "fence": ["/bin/true"])");
    CHECK(load_error(fenced) == "");
    std::string none = text;
    none.replace(none.find(R"("deadlines")"), 11, R"("lease": {"fencing": "none"}, "deadlines")");
    CHECK(load_error(none) == "");
    TempConfig t(none);
    CHECK(load_mgmtvm_config(t.path, "").fencing_none);
    CHECK(load_error(with(R"("deadlines")", R"("lease": {"fencing": "off"}, "deadlines")")) ==
          "FILE: key 'lease.fencing': expected \"storage\" or \"none\", got \"off\"");
    CHECK(load_error(with(R"("deadlines")", R"("placement": "anywhere", "deadlines")")) ==
          "FILE: key 'placement': expected \"sticky\" or \"follow-master\", got \"anywhere\"");
    // Without a lease there is nothing to fence for.
    CHECK(load_error(kGood) == "");
}

TEST_CASE("a missing config file is a config error") {
    CHECK_THROWS_AS(load_mgmtvm_config("/nonexistent/mgmtvm.json", ""), ConfigError);
}

TEST_CASE("a config others can write is refused as root, and read otherwise") {
    TempConfig t(kGood);
    std::filesystem::permissions(t.path, std::filesystem::perms(0666));
    if (geteuid() != 0) {
        // StrictModes guard root only: an operator's own test config under their home is fine.
        CHECK_NOTHROW(load_mgmtvm_config(t.path, ""));
        return;
    }
    try {
        load_mgmtvm_config(t.path, "");
        FAIL("loaded a world-writable config");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find("writable by group or others (mode 0666)") !=
              std::string::npos);
    }
}

// One table of keys drives allow_only and this check: a key added in code and not documented,
// or documented and not in code, fails here.
TEST_CASE("man/mgmtvm-reconcile.1 documents exactly the keys mgmtvm.json allows") {
    std::vector<ConfigSection> sections = mgmtvm_config_sections();
    std::set<std::string> table = test::table_keys(sections);
    std::set<std::string> documented = test::documented_keys(test::man_page("mgmtvm-reconcile.1"));
    CHECK(test::undocumented(table, documented) == std::set<std::string>{});
    CHECK(test::unknown(table, documented) == std::set<std::string>{});
}

// Every storage call of a tick's longest path may take its whole deadline: the deadlines must
// still fit in deadlines.tick_s, or the tick is killed half way whenever the storage is slow.
TEST_CASE("deadlines that cannot fit in a tick are refused, naming what adds up") {
    // Stop path without a lease: 3 probes x 3 s + 2 x 3 s + stop 14 s + 1 s + 0.5 s = 30.5 s.
    CHECK(load_error(with(R"("tick_s": 56)", R"("tick_s": 30.5)")) == "");
    CHECK(load_error(with(R"("tick_s": 56)", R"("tick_s": 30)")) ==
          "FILE: key 'deadlines.tick_s': a tick that stops the VM can take 30.5 s, more than "
          "deadlines.tick_s (30 s): 3 storage calls of up to 9 s in all (storage.timeout_s), 2 x "
          "deadlines.peer_s, deadlines.stop_s, 1 s to destroy, and 0.5 s to report; raise "
          "deadlines.tick_s (it must stay under the tick's period, lease.tick_s), or lower "
          "storage.timeout_s, deadlines.peer_s or deadlines.stop_s");
    // A lease adds a renewal, an adoption and a release (each a command and lease_holder: 6 s),
    // a shared store the maintenance read and the decision: 8 calls, 33 s; + 21.5 s = 54.5 s.
    std::string lease = R"("timeout_s": 3,
              "lease_acquire": ["/bin/true"], "lease_renew": ["/bin/true"],
              "lease_release": ["/bin/true"], "lease_holder": ["/bin/true"],
              "fence": ["/bin/true"], "shared_get": ["/bin/true"], "shared_put": ["/bin/true"])";
    std::string full = with(R"("timeout_s": 3)", lease);
    CHECK(load_error(full) == "");
    std::string tight = full;
    tight.replace(tight.find(R"("tick_s": 56)"), 12, R"("tick_s": 54)");
    CHECK(load_error(tight).find("a tick that stops the VM can take 54.5 s, more than "
                                 "deadlines.tick_s (54 s): 8 storage calls of up to 33 s") !=
          std::string::npos);
    // The defaults (no deadlines section) fit the fullest command backend: 55.5 s of 57.
    size_t d = full.find(R"(,
  "deadlines")");
    REQUIRE(d != std::string::npos);
    CHECK(load_error(full.substr(0, d) + "\n}") == "");
}

// The example the package installs under /usr/share/doc/storkit/examples is a valid config.
TEST_CASE("the packaged example mgmtvm.json loads") {
    MgmtvmConfig c =
        load_mgmtvm_config(std::string(STORKIT_SOURCE_DIR) + "/packaging/examples/mgmtvm.json", "");
    CHECK(c.node == "stor1");
    CHECK(c.vm_name == "mgmt");
    CHECK(c.lease_tick_s == 60);
}

// 1e308 used to pass: the lease then held "expires": null and every later tick failed.
TEST_CASE("lease.tick_s and the deadlines have ceilings") {
    CHECK(load_error(with(R"("deadlines": {)", R"("lease": {"tick_s": 1e308}, "deadlines": {)")) ==
          "FILE: key 'lease.tick_s': expected a number greater than 0 and at most 3600, got the "
          "number 1e+308");
    CHECK(load_error(with(R"("tick_s": 56)", R"("tick_s": 3601)")) ==
          "FILE: key 'deadlines.tick_s': expected a number greater than 0 and at most 3600, got "
          "the number 3601");
}
