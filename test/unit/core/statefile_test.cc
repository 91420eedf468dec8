#include "core/statefile.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "core/error.h"

using namespace storkit;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/storkit-unit.XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};
}  // namespace

TEST_CASE("atomic write replaces content and skips identical content") {
    TempDir d;
    std::string f = d.path + "/state.json";
    CHECK_FALSE(read_file(f).has_value());
    CHECK(write_file_atomic(f, "one", 0600));
    CHECK(*read_file(f) == "one");
    struct stat st {};
    REQUIRE(stat(f.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_FALSE(write_file_atomic(f, "one"));
    CHECK(write_file_atomic(f, "two"));
    CHECK(*read_file(f) == "two");
    // No temp files left behind.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d.path)) ++entries;
    CHECK(entries == 1);
}

TEST_CASE("atomic write into a missing directory fails with the path") {
    TempDir d;
    try {
        write_file_atomic(d.path + "/missing/x", "y");
        FAIL("wrote into a missing directory");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find(d.path + "/missing/x") != std::string::npos);
    }
}

TEST_CASE("the lock excludes a second holder, also in another process") {
    TempDir d;
    std::string lockfile = d.path + "/tick.lock";
    {
        FileLock held = FileLock::try_acquire(lockfile);
        pid_t pid = fork();
        if (pid == 0) {
            try {
                FileLock again = FileLock::try_acquire(lockfile);
                _exit(0);
            } catch (const LockedError&) {
                _exit(75);
            }
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WEXITSTATUS(status) == 75);
    }
    // Released with its owner.
    CHECK_NOTHROW(FileLock::try_acquire(lockfile));
}
