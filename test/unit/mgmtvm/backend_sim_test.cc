// The sim backend on a real directory: the lease's rules, fencing that cuts exactly the other
// nodes' clients of the disk, and the faults one part at a time.
#include "mgmtvm/backend_sim.h"

#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/statefile.h"

using namespace storkit;
using std::chrono::milliseconds;

namespace {

struct SimDir {
    std::string dir;
    SimDir() {
        char tmpl[] = "/tmp/storkit-sim.XXXXXX";
        dir = ::mkdtemp(tmpl);
        clock(1000);
    }
    ~SimDir() { std::filesystem::remove_all(dir); }
    void clock(double t) const { put("clock", std::to_string(t)); }
    void put(const std::string& file, const std::string& text) const {
        std::filesystem::create_directories(std::filesystem::path(dir + "/" + file).parent_path());
        std::ofstream(dir + "/" + file) << text << "\n";
    }
    SimStorage node(const std::string& name, milliseconds timeout = milliseconds(2000)) const {
        SimStorageConfig c;
        c.dir = dir;
        c.timeout = timeout;
        return SimStorage(c, {name, "mgmt", ""});
    }
    std::string lease_json() const { return read_file(dir + "/lease.json").value_or(""); }
};

}  // namespace

TEST_CASE("sim lease: acquire takes a new epoch, renew keeps it, a live lease is busy") {
    SimDir sim;
    SimStorage n1 = sim.node("node1"), n2 = sim.node("node2");
    VmLeaseOutcome a = n1.lease_acquire(30);
    REQUIRE(a.status == VmLeaseStatus::kOk);
    CHECK(a.info.epoch == 1);
    CHECK(a.info.expires == 1030);

    sim.clock(1020);
    VmLeaseOutcome r = n1.lease_renew(30);
    REQUIRE(r.status == VmLeaseStatus::kOk);
    CHECK(r.info.epoch == 1);
    CHECK(r.info.expires == 1050);

    VmLeaseOutcome busy = n2.lease_acquire(30);
    CHECK(busy.status == VmLeaseStatus::kBusy);
    CHECK(busy.info.node == "node1");
    CHECK(n2.lease_renew(30).status == VmLeaseStatus::kLost);  // never node2's
}

TEST_CASE(
    "sim lease: an expired lease is taken by an acquire only, and then its holder's renew "
    "is refused") {
    SimDir sim;
    SimStorage n1 = sim.node("node1"), n2 = sim.node("node2");
    REQUIRE(n1.lease_acquire(30).status == VmLeaseStatus::kOk);

    // Ran out, nobody took it: the holder may still renew it, same epoch (a RADOS lock's
    // holder re-locking), since no other node can have fenced it.
    sim.clock(1031);
    VmLeaseOutcome late = n1.lease_renew(30);
    REQUIRE(late.status == VmLeaseStatus::kOk);
    CHECK(late.info.epoch == 1);
    CHECK(late.info.expires == 1061);

    // Ran out and another node took it: the old holder's renew is refused from then on.
    sim.clock(1062);
    VmLeaseOutcome taken = n2.lease_acquire(30);
    REQUIRE(taken.status == VmLeaseStatus::kOk);
    CHECK(taken.info.epoch == 2);
    VmLeaseOutcome refused = n1.lease_renew(30);
    CHECK(refused.status == VmLeaseStatus::kLost);
    CHECK(refused.info.node == "node2");
    CHECK(refused.info.epoch == 2);
    CHECK(n1.lease_release().status == VmLeaseStatus::kLost);
}

TEST_CASE("sim lease: a released lease is free at once and renewing it is refused") {
    SimDir sim;
    SimStorage n1 = sim.node("node1"), n2 = sim.node("node2");
    REQUIRE(n1.lease_acquire(30).status == VmLeaseStatus::kOk);
    VmLeaseOutcome rel = n1.lease_release();
    REQUIRE(rel.status == VmLeaseStatus::kOk);
    CHECK(rel.info.released);
    CHECK_FALSE(rel.info.live());
    CHECK(n1.lease_renew(30).status == VmLeaseStatus::kLost);
    VmLeaseOutcome next = n2.lease_acquire(30);
    REQUIRE(next.status == VmLeaseStatus::kOk);
    CHECK(next.info.epoch == 2);
}

TEST_CASE("sim fencing cuts every other node's client of the disk, never the fencer's") {
    SimDir sim;
    SimDisk disk(sim.dir);
    uint64_t c1 = disk.open("node1"), c2 = disk.open("node2"), c3 = disk.open("node3");
    uint64_t c2b = disk.open("node2");
    CHECK(disk.write(c1, "node1", 1));
    CHECK(disk.write(c3, "node3", 1));

    SimStorage n2 = sim.node("node2");
    REQUIRE(n2.lease_acquire(30).status == VmLeaseStatus::kOk);
    StorageAnswer f = n2.fence(1);
    REQUIRE(f.value == Tri::kYes);

    CHECK_FALSE(disk.write(c1, "node1", 2));
    CHECK_FALSE(disk.write(c3, "node3", 2));
    CHECK(disk.write(c2, "node2", 1));
    CHECK(disk.write(c2b, "node2", 1));
    // A copy that opens the disk after the fencing is a new client, and may write.
    uint64_t c1new = disk.open("node1");
    CHECK(disk.write(c1new, "node1", 1));

    std::string log = read_file(sim.dir + "/disk/log").value_or("");
    CHECK(log.find(fmt::format("refused {} node1 2", c1)) != std::string::npos);
    CHECK(log.find(fmt::format("ok {} node2 1", c2)) != std::string::npos);
    std::string fences = read_file(sim.dir + "/fence.log").value_or("");
    auto line = nlohmann::json::parse(fences.substr(0, fences.find('\n')));
    CHECK(line["by"] == "node2");
    CHECK(line["epoch"] == 1);
    CHECK(line["blocklisted"] == nlohmann::json::array({c1, c3}));
}

TEST_CASE("sim faults: one part at a time, fail, unknown and slow") {
    SimDir sim;
    SimStorage n1 = sim.node("node1", milliseconds(300));
    sim.put("master", "node1");

    SECTION("a failing lease refuses and changes nothing; the other parts still answer") {
        sim.put("nodes/node1/lease", "fail");
        CHECK(n1.lease_acquire(30).status == VmLeaseStatus::kError);
        CHECK(sim.lease_json().empty());
        CHECK(n1.is_master().value == Tri::kYes);
        CHECK(n1.volume_healthy().value == Tri::kYes);
    }
    SECTION("an unknown lease answer is carried out, its answer lost") {
        sim.put("nodes/node1/lease", "hmm");
        VmLeaseOutcome a = n1.lease_acquire(30);
        CHECK(a.status == VmLeaseStatus::kError);
        CHECK(a.detail.find("answer was lost") != std::string::npos);
        CHECK(sim.lease_json().find("\"node1\"") != std::string::npos);
    }
    SECTION("a slow lease answer is unknown at the deadline and carried out late") {
        sim.put("nodes/node1/lease", "slow 0.8");
        auto t0 = std::chrono::steady_clock::now();
        VmLeaseOutcome a = n1.lease_acquire(30);
        CHECK(std::chrono::steady_clock::now() - t0 < milliseconds(700));
        CHECK(a.status == VmLeaseStatus::kError);
        CHECK(a.detail.find("no answer within") != std::string::npos);
        CHECK(sim.lease_json().empty());
        for (int i = 0; i < 40 && sim.lease_json().empty(); ++i)
            std::this_thread::sleep_for(milliseconds(50));
        CHECK(sim.lease_json().find("\"node1\"") != std::string::npos);
    }
    SECTION("the master question alone, as asked from one node") {
        sim.put("nodes/node1/master", "fail");
        CHECK(n1.is_master().value == Tri::kNo);
        CHECK(sim.node("node2").is_master().value == Tri::kNo);  // node1 is the master
        sim.put("nodes/node1/master", "electing");
        CHECK(n1.is_master().value == Tri::kUnknown);
        CHECK(n1.service_healthy().value == Tri::kYes);
    }
    SECTION("the volume, from everywhere or from one node") {
        sim.put("nodes/node1/volume", "fail");
        CHECK(n1.volume_healthy().value == Tri::kNo);
        CHECK(sim.node("node2").volume_healthy().value == Tri::kYes);
        sim.put("volume", "degraded?");
        CHECK(sim.node("node2").volume_healthy().value == Tri::kUnknown);
    }
    SECTION("failed fencing cuts nobody") {
        SimDisk disk(sim.dir);
        uint64_t c2 = disk.open("node2");
        sim.put("fence", "fail");
        CHECK(n1.fence(1).value == Tri::kNo);
        CHECK(disk.write(c2, "node2", 1));
    }
    SECTION("the shared store fails alone") {
        sim.put("nodes/node1/shared", "fail");
        CHECK_THROWS(n1.shared_write("maintenance", "{}"));
        CHECK_THROWS(n1.shared_read("maintenance"));
        CHECK(n1.lease_acquire(30).status == VmLeaseStatus::kOk);
    }
}

TEST_CASE("sim shared store: a replace lands only on the record as read") {
    SimDir sim;
    SimStorage n1 = sim.node("node1"), n2 = sim.node("node2");
    CHECK(n1.shared_replace("maintenance", std::nullopt, "one\n"));
    CHECK_FALSE(n2.shared_replace("maintenance", std::nullopt, "two\n"));  // not absent now
    CHECK(n1.shared_read("maintenance") == "one\n");
    CHECK_FALSE(n2.shared_replace("maintenance", "one", "two\n"));  // every byte counts
    CHECK(n2.shared_replace("maintenance", "one\n", "two\n"));
    CHECK_FALSE(n1.shared_replace("maintenance", "one\n", "three\n"));  // n2's change stays
    CHECK(n1.shared_read("maintenance") == "two\n");
    sim.put("nodes/node1/shared", "fail");
    CHECK_THROWS(n1.shared_replace("maintenance", "two\n", "three\n"));
}
