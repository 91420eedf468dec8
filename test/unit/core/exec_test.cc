#include "core/exec.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/secret.h"

using namespace storkit;
using namespace std::chrono_literals;

TEST_CASE("exit codes, output and environment of a real command") {
    ExecRequest req;
    req.argv = {"/bin/sh", "-c", "echo out; echo err >&2; echo \"$STORKIT_X\"; exit 3"};
    req.env = {{"STORKIT_X", "value with spaces"}};
    ExecResult r = run_command(req);
    CHECK(r.started);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 3);
    CHECK(r.out == "out\nvalue with spaces\n");
    CHECK(r.err == "err\n");
    CHECK(r.describe() == "exit 3");
    CHECK_FALSE(r.ok());
}

// A BMC password exported for bmc-power, or one load_secret read from any variable, is not
// handed to the programs storkit starts; everything else of the environment is.
TEST_CASE("secret variables stay out of a child's environment") {
    ::setenv("STORKIT_IPMI_PASSWORD", "pw-in-env", 1);
    ::setenv("STORKIT_TEST_SECRET", "other-secret", 1);
    ::setenv("STORKIT_TEST_PLAIN", "plain", 1);
    (void)load_secret("", "STORKIT_TEST_SECRET", "test secret");
    ExecRequest req;
    req.argv = {"/usr/bin/env"};
    ExecResult r = run_command(req);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("pw-in-env") == std::string::npos);
    CHECK(r.out.find("other-secret") == std::string::npos);
    CHECK(r.out.find("STORKIT_TEST_PLAIN=plain") != std::string::npos);
    CHECK(is_secret_env("STORKIT_IPMI_PASSWORD"));
    CHECK_FALSE(is_secret_env("PATH"));
    ::unsetenv("STORKIT_IPMI_PASSWORD");
    ::unsetenv("STORKIT_TEST_SECRET");
    ::unsetenv("STORKIT_TEST_PLAIN");
}

TEST_CASE("arguments are passed as they are, never through a shell") {
    ExecRequest req;
    req.argv = {"/bin/echo", "$(id)", "a;b", "*"};
    ExecResult r = run_command(req);
    CHECK(r.ok());
    CHECK(r.out == "$(id) a;b *\n");
}

TEST_CASE("stdin data reaches the command") {
    ExecRequest req;
    req.argv = {"/bin/cat"};
    req.stdin_data = "secret\n";
    CHECK(run_command(req).out == "secret\n");
}

TEST_CASE("the deadline kills the command and what it started") {
    char dir[] = "/tmp/storkit-exec.XXXXXX";
    REQUIRE(::mkdtemp(dir));
    std::string pids = std::string(dir) + "/pids";
    ExecRequest req;
    req.argv = {"/bin/sh", "-c", "sleep 30 & echo $! $$ >" + pids + "; sleep 30; echo never"};
    req.timeout = 300ms;
    auto t0 = std::chrono::steady_clock::now();
    ExecResult r = run_command(req);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(r.timed_out);
    CHECK(r.out.empty());
    CHECK(r.describe() == "timed out after 0.3 s");
    CHECK(took < 5s);  // bounded by the deadline, not by the sleeps
    // Neither the shell nor the child it left behind outlives the deadline.
    std::ifstream in(pids);
    pid_t child = 0, shell = 0;
    REQUIRE(in >> child >> shell);
    for (pid_t p : {child, shell}) {
        bool gone = false;
        for (int i = 0; i < 100 && !gone; ++i) {
            std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
            std::string pid, comm, state;
            gone = !(stat >> pid >> comm >> state) || state == "Z";
            if (!gone) std::this_thread::sleep_for(20ms);
        }
        CHECK(gone);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("output is capped, and a command writing more still finishes") {
    ExecRequest req;
    req.argv = {"/bin/sh", "-c", "head -c 3000000 /dev/zero; head -c 200000 /dev/zero >&2; exit 4"};
    req.timeout = 10s;
    ExecResult r = run_command(req);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 4);
    CHECK(r.out.size() == 1u << 20);
    CHECK(r.err.size() == 64u << 10);
}

TEST_CASE("a command that backgrounds a child holding stdout returns when it exits") {
    ExecRequest req;
    req.argv = {"/bin/sh", "-c", "sleep 5 & echo started"};
    req.timeout = 10s;
    auto t0 = std::chrono::steady_clock::now();
    ExecResult r = run_command(req);
    CHECK(r.ok());
    CHECK(r.out == "started\n");
    CHECK(std::chrono::steady_clock::now() - t0 < 4s);
}

TEST_CASE("a missing program is reported, not thrown") {
    ExecRequest req;
    req.argv = {"/nonexistent/prog"};
    ExecResult r = run_command(req);
    CHECK_FALSE(r.started);
    CHECK(r.describe() == "cannot run: /nonexistent/prog: No such file or directory");
}
