#include "core/statefile.h"

#include <fmt/format.h>
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
        // The file that was asked for, not the name of its temporary file.
        CHECK(std::string(e.what()).rfind(d.path + "/missing/x: ", 0) == 0);
        CHECK(std::string(e.what()).find(".tmp") == std::string::npos);
    }
}

namespace {
// The pid of a process that has exited (and been reaped).
pid_t dead_pid() {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    int status = 0;
    waitpid(pid, &status, 0);
    return pid;
}

bool exists(const std::string& path) {
    struct stat st {};
    return lstat(path.c_str(), &st) == 0;
}

void touch(const std::string& path) {
    REQUIRE(write_file_atomic(path, "leftover", 0600));
}
}  // namespace

TEST_CASE("a killed writer's temp files are removed; a live writer's stay") {
    TempDir d;
    pid_t dead = dead_pid();
    std::string mine = fmt::format("{}/.state.json.tmp.{}.abcdef", d.path, dead);
    std::string tree = fmt::format("{}/.state.json.tmp.{}", d.path, dead);
    std::string live = d.path + "/.state.json.tmp.1.abcdef";  // pid 1 runs
    std::string other = fmt::format("{}/.other.tmp.{}", d.path, dead);
    std::string visible = fmt::format("{}/state.json.tmp.{}", d.path, dead);
    std::string odd = fmt::format("{}/.state.json.tmp.{}.ab", d.path, dead);
    for (const std::string& f : {mine, live, other, visible, odd}) touch(f);
    std::filesystem::create_directories(tree + "/images/pxeboot");
    touch(tree + "/images/pxeboot/vmlinuz");

    CHECK(write_file_atomic(d.path + "/state.json", "new"));
    CHECK_FALSE(exists(mine));
    CHECK_FALSE(exists(tree));
    CHECK(exists(live));
    CHECK(exists(other));  // another file's: left to its own writer
    CHECK(exists(visible));
    CHECK(exists(odd));
    CHECK(*read_file(d.path + "/state.json") == "new");

    CHECK(remove_dead_temps(d.path) == 1);  // every name: `other` too
    CHECK_FALSE(exists(other));
    CHECK(exists(live));
    CHECK(remove_dead_temps(d.path + "/missing") == 0);
}

TEST_CASE("temp file names are hidden and carry the writer's pid") {
    CHECK(temp_path_for("/srv/tftp/pxelinux.cfg/01-aa") ==
          fmt::format("/srv/tftp/pxelinux.cfg/.01-aa.tmp.{}", getpid()));
}

TEST_CASE("an input file must be a regular file of bounded size") {
    TempDir d;
    CHECK_FALSE(read_input_file(d.path + "/missing", 100).has_value());
    touch(d.path + "/ok");
    CHECK(*read_input_file(d.path + "/ok", 100) == "leftover");
    CHECK_THROWS_WITH(read_input_file(d.path + "/ok", 5),
                      d.path + "/ok: 8 bytes, more than the 5 allowed");
    // A FIFO nobody writes to: refused at once, not waited on.
    std::string fifo = d.path + "/fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(read_input_file(fifo, 100), fifo + ": not a regular file");
    CHECK_THROWS_WITH(read_input_file("/dev/zero", 100), "/dev/zero: not a regular file");
    CHECK_THROWS_WITH(read_input_file(d.path, 100), d.path + ": not a regular file");
}

TEST_CASE("directories get their mode whatever the umask") {
    TempDir d;
    mode_t old = umask(0);
    make_dirs(d.path + "/a/b/c");
    make_dirs(d.path + "/private/x", 0700);
    umask(old);
    struct stat st {};
    for (const char* sub : {"/a", "/a/b", "/a/b/c"}) {
        REQUIRE(stat((d.path + sub).c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0755);
    }
    REQUIRE(stat((d.path + "/private/x").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    touch(d.path + "/file");
    CHECK_THROWS_AS(make_dirs(d.path + "/file/sub"), Error);
    CHECK_THROWS_AS(make_dirs(d.path + "/file"), Error);
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
