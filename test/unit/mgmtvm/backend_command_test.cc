// The command backend running real programs (small shell scripts written per test).
#include "mgmtvm/backend_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/clock.h"

using namespace storkit;

namespace {

struct Scripts {
    std::string dir;
    Scripts() {
        char tmpl[] = "/tmp/storkit-cmd.XXXXXX";
        dir = ::mkdtemp(tmpl);
    }
    ~Scripts() { std::filesystem::remove_all(dir); }
    // Writes an executable script NAME with BODY; returns its argv.
    Argv script(const std::string& name, const std::string& body) {
        std::string path = dir + "/" + name;
        std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
        ::chmod(path.c_str(), 0755);
        return {path};
    }
};

CommandStorage storage(Scripts& s, CommandStorageConfig c) {
    if (c.service_health.empty()) c.service_health = s.script("yes", "exit 0");
    if (c.volume_health.empty()) c.volume_health = s.script("yes", "exit 0");
    if (c.is_master.empty()) c.is_master = s.script("yes", "exit 0");
    c.timeout = std::chrono::milliseconds(2000);
    return CommandStorage(c, {"node1", "mgmt", "vol"});
}

}  // namespace

TEST_CASE("a command killed by a signal is an unknown answer") {
    Scripts s;
    CommandStorageConfig c;
    c.service_health = s.script("killed", "kill -KILL $$");
    StorageAnswer a = storage(s, c).service_healthy();
    CHECK(a.value == Tri::kUnknown);
    CHECK(a.detail.find("signal 9") != std::string::npos);
}

TEST_CASE("exit 0, 1 and anything else are yes, no and unknown") {
    Scripts s;
    CommandStorageConfig c;
    c.service_health = s.script("no", "echo 'monitor says no' >&2; exit 1");
    c.volume_health = s.script("three", "exit 3");
    c.is_master = s.script("slow", "sleep 5");
    CommandStorage st = storage(s, c);
    StorageAnswer no = st.service_healthy();
    CHECK(no.value == Tri::kNo);
    CHECK(no.detail == "exit 1: monitor says no");
    CHECK(st.volume_healthy().value == Tri::kUnknown);
    auto t0 = std::chrono::steady_clock::now();
    StorageAnswer slow = st.is_master();
    CHECK(slow.value == Tri::kUnknown);
    CHECK(slow.detail.find("timed out after 2 s") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(4000));
}

TEST_CASE("a holder record without `now` is read on the local clock") {
    Scripts s;
    CommandStorageConfig c;
    c.lease_holder = s.script("holder", R"(echo '{"node":"node2","epoch":7,"expires":1}')");
    VmLeaseOutcome o = storage(s, c).lease_read();
    REQUIRE(o.status == VmLeaseStatus::kOk);
    CHECK(o.info.node == "node2");
    CHECK(o.info.epoch == 7);
    CHECK(std::abs(o.info.now - now_seconds()) < 5);
    CHECK_FALSE(o.info.live());
}

TEST_CASE("a holder command that fails or prints garbage is a lease error") {
    Scripts s;
    CommandStorageConfig c;
    c.lease_holder = s.script("holder", "echo 'no quorum' >&2; exit 2");
    VmLeaseOutcome failed = storage(s, c).lease_read();
    CHECK(failed.status == VmLeaseStatus::kError);
    CHECK(failed.detail.find("no quorum") != std::string::npos);
    c.lease_holder = s.script("garbage", "echo 'not json'");
    CHECK(storage(s, c).lease_read().status == VmLeaseStatus::kError);
}

TEST_CASE("a lease operation whose holder cannot be read afterwards is a lease error") {
    // A refused renew read as "lost, nobody holds it" would make the holder of a running VM
    // acquire the lease another node took; an acquire read as epoch 0 would start unfenced.
    Scripts s;
    CommandStorageConfig c;
    c.lease_acquire = s.script("acquire", "exit 0");
    c.lease_renew = s.script("renew", "exit 1");
    c.lease_release = s.script("release", "exit 0");
    c.lease_holder = s.script("holder", "echo 'no quorum' >&2; exit 2");
    CommandStorage st = storage(s, c);
    VmLeaseOutcome renew = st.lease_renew(30);
    CHECK(renew.status == VmLeaseStatus::kError);
    CHECK(renew.detail.find("refused, but lease_holder") != std::string::npos);
    CHECK(renew.detail.find("no quorum") != std::string::npos);
    VmLeaseOutcome acquire = st.lease_acquire(30);
    CHECK(acquire.status == VmLeaseStatus::kError);
    CHECK(acquire.detail.find("acquired, but lease_holder") != std::string::npos);
}
