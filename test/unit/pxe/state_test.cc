#include "pxe/state.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/storkit-pxestate.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

storkit::PxeEvent lease(int i, double t) {
    storkit::PxeEvent e;
    e.kind = "dhcp";
    e.action = "add";
    e.mac = fmt::format("52:54:00:00:{:02x}:{:02x}", i / 256, i % 256);
    e.ip = fmt::format("198.18.{}.{}", i / 200, 10 + i % 200);
    e.time = t;
    return e;
}

size_t lines(const std::string& file) {
    std::ifstream in(file);
    size_t n = 0;
    for (std::string l; std::getline(in, l);) ++n;
    return n;
}

}  // namespace

TEST_CASE("events recorded at the same time from many writers all arrive", "[pxe_state]") {
    TempDir dir;
    storkit::PxeState state(dir.path + "/pxe");
    std::vector<std::thread> writers;
    for (int w = 0; w < 8; ++w)
        writers.emplace_back([&, w] {
            for (int i = 0; i < 25; ++i) storkit::record_event(state, lease(w * 25 + i, w + i));
        });
    for (std::thread& t : writers) t.join();
    CHECK(lines(state.path("events.jsonl")) == 200);
    storkit::FileLock lock = state.lock();
    CHECK(state.leases().leases().size() == 200);
    std::optional<std::string> table = storkit::read_file(state.path("table.json"));
    REQUIRE(table);
    CHECK(nlohmann::json::parse(*table)["unbound"].size() == 200);
}

TEST_CASE("a run that died after appending is caught up by the next", "[pxe_state]") {
    TempDir dir;
    storkit::PxeState state(dir.path);
    storkit::record_event(state, lease(1, 1));
    {
        storkit::FileLock lock = state.lock();
        state.append(lease(2, 2));  // ... and the process is gone before save()
    }
    storkit::record_event(state, lease(3, 3));
    storkit::FileLock lock = state.lock();
    storkit::DhcpLeaseTable t = state.leases();
    CHECK(t.leases().size() == 3);
    CHECK(t.applied_bytes == std::filesystem::file_size(state.path("events.jsonl")));
    // Without leases.json the whole log is replayed.
    std::filesystem::remove(state.path("leases.json"));
    CHECK(state.leases().leases().size() == 3);
}

TEST_CASE("a broken line in the log is skipped, not fatal", "[pxe_state]") {
    TempDir dir;
    storkit::PxeState state(dir.path);
    storkit::record_event(state, lease(1, 1));
    std::ofstream(state.path("events.jsonl"), std::ios::app) << "{not json\n";
    storkit::record_event(state, lease(2, 2));
    storkit::FileLock lock = state.lock();
    CHECK(state.leases().leases().size() == 2);
}

TEST_CASE("the state directory comes from the option, the environment or the config",
          "[pxe_state]") {
    TempDir dir;
    ::unsetenv(storkit::kPxeStateEnv);
    CHECK(storkit::resolve_pxe_state_dir("/x", "") == "/x");
    CHECK(storkit::resolve_pxe_state_dir("", dir.path + "/missing.json") ==
          storkit::kDefaultPxeStateDir);
    std::string cfg = dir.path + "/pxe.json";
    const std::string bmc =
        R"("bmc": {"subnet": "198.18.64.0/24", "user": "admin", "password_file": "/pw"})";
    std::ofstream(cfg) << R"({"paths": {"state_dir": "/srv/state"}, )" << bmc << "}";
    CHECK(storkit::resolve_pxe_state_dir("", cfg) == "/srv/state/pxe");
    // Checked as pxe-provision checks it: a misspelt key is not the default directory.
    std::ofstream(cfg) << R"({"paths": {"state_dri": "/srv/state"}, )" << bmc << "}";
    CHECK_THROWS_WITH(storkit::resolve_pxe_state_dir("", cfg),
                      Catch::Contains("key 'paths.state_dri': unknown key"));
    std::ofstream(cfg) << R"({"paths": {"state_dir": "/srv/state"}, )" << bmc << "}";
    ::setenv(storkit::kPxeStateEnv, "/from/env", 1);
    CHECK(storkit::resolve_pxe_state_dir("", cfg) == "/from/env");
    CHECK(storkit::resolve_pxe_state_dir("/x", cfg) == "/x");
    ::unsetenv(storkit::kPxeStateEnv);
    std::ofstream(cfg) << "{broken";
    CHECK_THROWS_AS(storkit::resolve_pxe_state_dir("", cfg), storkit::ConfigError);
}
