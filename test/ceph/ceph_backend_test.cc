// The ceph storage backend against a real throw-away cluster (scripts/testbed/ceph-cluster:
// three monitors a, b, c, one memstore OSD, pool rbd), which CTest starts before and stops
// after (fixture "ceph"). STORKIT_CEPH_CONF names its ceph.conf, STORKIT_CEPH_BED the script,
// STORKIT_CEPH_BASE its directory. Every CephStorage here is its own connection, as every tick is
// its own process.
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "mgmtvm/backend_ceph.h"

using namespace storkit;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (!v) FAIL(name << " is not set: run through ctest (fixture ceph)");
    return v;
}

CephStorage storage(const std::string& node, const std::string& image = "vm",
                    milliseconds timeout = milliseconds(3000)) {
    CephStorageConfig c;
    c.client.conf = env("STORKIT_CEPH_CONF");
    c.client.client = "admin";
    c.client.pool = "rbd";
    c.client.timeout = timeout;
    c.image = image;
    c.monitors = {{"node1", "a"}, {"node2", "b"}, {"node3", "c"}};
    return CephStorage(c, {node, "mgmt", image});
}

// A client of the cluster of our own, to make and write images as a VM would.
struct Rados {
    rados_t cluster = nullptr;
    rados_ioctx_t io = nullptr;
    Rados() {
        REQUIRE(rados_create(&cluster, "admin") == 0);
        REQUIRE(rados_conf_read_file(cluster, env("STORKIT_CEPH_CONF").c_str()) == 0);
        rados_conf_set(cluster, "rados_osd_op_timeout", "5");
        REQUIRE(rados_connect(cluster) == 0);
        REQUIRE(rados_ioctx_create(cluster, "rbd", &io) == 0);
    }
    ~Rados() {
        rados_ioctx_destroy(io);
        rados_shutdown(cluster);
    }
    void make_image(const std::string& name, uint64_t bytes = 16 << 20) {
        int order = 22;
        int r = rbd_create(io, name.c_str(), bytes, &order);
        REQUIRE((r == 0 || r == -EEXIST));
    }
};

// A name of this run's own: the cluster may have seen earlier runs.
std::string unique(const std::string& name) {
    return name + "-" + std::to_string(::getpid());
}

void bed(const std::string& args) {
    std::string cmd =
        "BASE='" + env("STORKIT_CEPH_BASE") + "' '" + env("STORKIT_CEPH_BED") + "' " + args;
    REQUIRE(std::system(cmd.c_str()) == 0);
}

}  // namespace

TEST_CASE("ceph probes: quorum, this node's monitor, the image, the leader") {
    Rados r;
    r.make_image("vm");
    CephStorage n1 = storage("node1");
    StorageAnswer service = n1.service_healthy();
    CHECK(service.value == Tri::kYes);
    CHECK(service.detail == "ceph: quorum a,b,c");
    StorageAnswer volume = n1.volume_healthy();
    CHECK(volume.value == Tri::kYes);
    CHECK(volume.detail == "ceph: rbd/vm reads");
    CHECK(storage("node1", "missing").volume_healthy().value == Tri::kNo);
    // Exactly one node's monitor leads, and every node names the same one.
    int masters = 0;
    std::string leader;
    for (const char* node : {"node1", "node2", "node3"}) {
        StorageAnswer m = storage(node).is_master();
        REQUIRE(m.value != Tri::kUnknown);
        masters += m.value == Tri::kYes;
        if (leader.empty()) leader = m.detail;
        CHECK(m.detail == leader);
    }
    CHECK(masters == 1);
    // A node without a monitor of its own: the quorum is what counts, and it never leads.
    CHECK(storage("node9").service_healthy().value == Tri::kYes);
    CHECK(storage("node9").is_master().value == Tri::kNo);
}

TEST_CASE("ceph lease: renewed by new processes, refused to others, taken after release") {
    Rados r;
    std::string image = unique("lease1");
    r.make_image(image);
    auto n = [&](const char* node) { return storage(node, image); };
    CHECK(n("node1").lease_read().info.node == "");
    VmLeaseOutcome a = n("node1").lease_acquire(30);
    REQUIRE(a.status == VmLeaseStatus::kOk);
    CHECK(a.info.epoch == 1);
    CHECK(a.detail == "acquired epoch 1");
    VmLeaseOutcome busy = n("node2").lease_acquire(30);
    CHECK(busy.status == VmLeaseStatus::kBusy);
    CHECK(busy.detail == "held by node1 (epoch 1)");
    VmLeaseOutcome renewed = n("node1").lease_renew(30);  // another connection of node1
    CHECK(renewed.status == VmLeaseStatus::kOk);
    CHECK(renewed.info.epoch == 1);
    CHECK(renewed.info.expires >= a.info.expires);
    CHECK(n("node2").lease_renew(30).status == VmLeaseStatus::kLost);
    VmLease seen = n("node3").lease_read().info;
    CHECK(seen.node == "node1");
    CHECK(seen.live());
    REQUIRE(n("node1").lease_release().status == VmLeaseStatus::kOk);
    CHECK(n("node3").lease_read().info.released);
    // Released: the next node takes it at once, though node1's lock had 30 s to run.
    VmLeaseOutcome b = n("node2").lease_acquire(30);
    CHECK(b.status == VmLeaseStatus::kOk);
    CHECK(b.info.epoch == 2);
    // The stale holder can never renew its superseded epoch.
    CHECK(n("node1").lease_renew(30).status == VmLeaseStatus::kLost);
    CHECK(n("node1").lease_release().status == VmLeaseStatus::kLost);
}

TEST_CASE("ceph lease: expires on the OSD, then another node takes it and the old one is out") {
    Rados r;
    std::string image = unique("lease2");
    r.make_image(image);
    auto n = [&](const char* node) { return storage(node, image); };
    REQUIRE(n("node1").lease_acquire(2).status == VmLeaseStatus::kOk);
    CHECK(n("node2").lease_acquire(2).status == VmLeaseStatus::kBusy);
    std::this_thread::sleep_for(milliseconds(2500));
    VmLeaseOutcome taken = n("node2").lease_acquire(30);
    CHECK(taken.status == VmLeaseStatus::kOk);
    CHECK(taken.info.epoch == 2);
    CHECK(n("node1").lease_renew(30).status == VmLeaseStatus::kLost);
    // An operator's confirm-down: node3 takes node2's live lease under the epoch confirmed.
    VmLease held = n("node3").lease_read().info;
    VmLeaseOutcome broke = n("node3").lease_break(30, held);
    CHECK(broke.status == VmLeaseStatus::kOk);
    CHECK(broke.detail == "acquired epoch 3 from node2, confirmed down");
    CHECK(n("node2").lease_renew(30).status == VmLeaseStatus::kLost);
    CHECK(n("node1").lease_break(30, held).status == VmLeaseStatus::kBusy);  // moved on
}

TEST_CASE("ceph lease: of nodes racing for a free lease exactly one wins") {
    Rados r;
    for (int round = 0; round < 5; ++round) {
        std::string image = unique("race" + std::to_string(round));
        r.make_image(image);
        std::vector<std::thread> racers;
        std::atomic<int> won{0}, errors{0};
        for (int i = 0; i < 6; ++i)
            racers.emplace_back([&, i] {
                CephStorage s = storage("node" + std::to_string(i), image);
                VmLeaseOutcome o = s.lease_acquire(30);
                won += o.status == VmLeaseStatus::kOk;
                errors += o.status == VmLeaseStatus::kError;
            });
        for (std::thread& t : racers) t.join();
        CHECK(won == 1);
        CHECK(errors == 0);
        CHECK(storage("node1", image).lease_read().info.epoch == 1);
    }
}

TEST_CASE("ceph shared store: omap records, replaced only as read") {
    Rados r;
    std::string image = unique("shared1");
    r.make_image(image);
    CephStorage n1 = storage("node1", image), n2 = storage("node2", image);
    CHECK(n1.shared_read("maintenance") == std::nullopt);
    CHECK(n1.shared_replace("maintenance", std::nullopt, "one\n"));
    CHECK_FALSE(n2.shared_replace("maintenance", std::nullopt, "two\n"));
    CHECK(n2.shared_read("maintenance") == "one\n");
    CHECK_FALSE(n2.shared_replace("maintenance", "one", "two\n"));
    CHECK(n2.shared_replace("maintenance", "one\n", "two\n"));
    CHECK(n1.shared_read("maintenance") == "two\n");
    n1.shared_write("decision.node1", "{}\n");
    CHECK(n2.shared_read("decision.node1") == "{}\n");
    // The lease lives on the same object, untouched by the records.
    CHECK(n1.lease_acquire(30).status == VmLeaseStatus::kOk);
    CHECK(n2.shared_read("maintenance") == "two\n");
}

TEST_CASE("ceph fencing: a client writing the image is blocklisted and its next write fails") {
    Rados writer;
    std::string image = unique("fence1");
    writer.make_image(image);
    rbd_image_t img = nullptr;
    REQUIRE(rbd_open(writer.io, image.c_str(), &img, nullptr) == 0);
    char block[4096] = {1};
    REQUIRE(rbd_write(img, 0, sizeof block, block) == static_cast<ssize_t>(sizeof block));
    CephStorage n2 = storage("node2", image);
    StorageAnswer open = n2.volume_clients();
    CHECK(open.value == Tri::kYes);
    CHECK_THAT(open.detail,
               Catch::Matches(image + " open by client\\.[0-9]+ at 127\\.0\\.0\\.1:0/[0-9]+"));
    StorageAnswer f = n2.fence(7);
    CHECK(f.value == Tri::kYes);
    CHECK_THAT(f.detail, Catch::Matches("blocklisted client\\.[0-9]+ at 127\\.0\\.0\\.1:0/[0-9]+ "
                                        "\\(epoch 7\\)"));
    ssize_t w = rbd_write(img, 4096, sizeof block, block);
    CHECK(w < 0);
    rbd_close(img);
    // Nobody has it open now: fencing again cuts nobody and says so.
    StorageAnswer again = n2.fence(8);
    CHECK(again.value == Tri::kYes);
    CHECK(again.detail == "no client had " + image + " open (epoch 8)");
    CHECK(n2.volume_clients().value == Tri::kNo);
}

TEST_CASE("ceph volume: an OSD that stops answering makes the volume unknown within the deadline") {
    Rados r;
    std::string image = unique("osd1");
    r.make_image(image);
    REQUIRE(storage("node1", image).volume_healthy().value == Tri::kYes);
    bed("freeze osd.0");
    auto t0 = Clock::now();
    StorageAnswer v = storage("node1", image, milliseconds(2000)).volume_healthy();
    double took = std::chrono::duration<double>(Clock::now() - t0).count();
    bed("thaw osd.0");
    CHECK(v.value == Tri::kUnknown);
    CHECK(took < 3.0);
    // The monitors still answer: the service is healthy, only the data is not reachable.
    CHECK(storage("node1", image).service_healthy().value == Tri::kYes);
    Tri back = Tri::kUnknown;
    for (int i = 0; i < 40 && back != Tri::kYes; ++i) {
        back = storage("node1", image).volume_healthy().value;
        if (back != Tri::kYes) std::this_thread::sleep_for(milliseconds(250));
    }
    CHECK(back == Tri::kYes);
}

// Last: these stop monitors (SIGSTOP: a hung node; SIGCONT brings it back at once).
TEST_CASE("ceph master follows the quorum leader; no quorum is unknown within the deadline") {
    std::string leader;
    for (const char* node : {"node1", "node2", "node3"})
        if (storage(node).is_master().value == Tri::kYes) leader = node;
    REQUIRE(!leader.empty());
    std::string mon = leader == "node1" ? "a" : leader == "node2" ? "b" : "c";
    bed("freeze mon." + mon);
    std::string next;
    for (int i = 0; i < 40 && next.empty(); ++i) {
        for (const char* node : {"node1", "node2", "node3"})
            if (node != leader && storage(node).is_master().value == Tri::kYes) next = node;
        if (next.empty()) std::this_thread::sleep_for(milliseconds(500));
    }
    CHECK(!next.empty());
    CHECK(storage(leader).service_healthy().value == Tri::kNo);  // its monitor is out
    bed("thaw mon." + mon);

    for (const char* m : {"a", "b", "c"}) bed(std::string("freeze mon.") + m);
    auto t0 = Clock::now();
    StorageAnswer s = storage("node1", "vm", milliseconds(2000)).service_healthy();
    double took = std::chrono::duration<double>(Clock::now() - t0).count();
    CHECK(s.value == Tri::kUnknown);
    CHECK(took < 3.0);
    for (const char* m : {"a", "b", "c"}) bed(std::string("thaw mon.") + m);
    // Back: the quorum forms again.
    Tri back = Tri::kUnknown;
    for (int i = 0; i < 60 && back != Tri::kYes; ++i) {
        back = storage("node1").service_healthy().value;
        if (back != Tri::kYes) std::this_thread::sleep_for(milliseconds(500));
    }
    CHECK(back == Tri::kYes);
}
