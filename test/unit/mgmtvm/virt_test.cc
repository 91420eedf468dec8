// virt against real libvirt: the test driver in-process (a node file sets each domain's run
// state, as a hypervisor would report it) and a real libvirtd of the test bed for deadlines.
#include "mgmtvm/virt.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/exec.h"

using std::chrono::milliseconds;
using storkit::Tri;
namespace virt = storkit::virt;

namespace {

// One test-driver node holding a domain per run state (libvirt's virDomainState numbers).
std::string node_file() {
    static const std::string path = [] {
        std::string p = std::filesystem::temp_directory_path() /
                        ("storkit-virt-" + std::to_string(::getpid()) + ".xml");
        std::ofstream out(p);
        out << "<node>\n";
        const std::pair<const char*, int> domains[] = {
            {"running", 1}, {"paused", 3}, {"shutoff", 5}, {"crashed", 6}, {"pmsuspended", 7}};
        for (const auto& [name, state] : domains)
            out << "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
                << "<name>" << name << "</name><memory>8192</memory><os><type>hvm</type></os>"
                << "<test:runstate>" << state << "</test:runstate></domain>\n";
        out << "</node>\n";
        return p;
    }();
    return path;
}

std::string node_uri() {
    return "test://" + node_file();
}

}  // namespace

TEST_CASE("query reports each run state, and only shut off or absent as not running") {
    struct Row {
        const char* domain;
        const char* state;
        Tri active;
    };
    const Row rows[] = {{"running", "running", Tri::kYes}, {"paused", "paused", Tri::kYes},
                        {"crashed", "crashed", Tri::kYes}, {"pmsuspended", "suspended", Tri::kYes},
                        {"shutoff", "shutoff", Tri::kNo},  {"nosuch", "absent", Tri::kNo}};
    for (const Row& r : rows) {
        virt::DomainStatus st = virt::query(node_uri(), r.domain, milliseconds(5000));
        INFO(r.domain << ": " << st.error);
        CHECK(st.state == r.state);
        CHECK(st.active == r.active);
        CHECK(st.error.empty());
    }
    std::filesystem::remove(node_file());
}

TEST_CASE("a node that cannot be reached is unknown, with the reason") {
    virt::DomainStatus st = virt::query("test+unix:///default?socket=/nonexistent/libvirt-sock",
                                        "mgmt", milliseconds(5000));
    CHECK(st.active == Tri::kUnknown);
    CHECK(st.state == "unknown");
    CHECK(st.error.find("/nonexistent/libvirt-sock") != std::string::npos);
}

TEST_CASE("a start past its deadline fails, and may still complete afterwards; pause and resume") {
    // A daemon frozen mid-call: the start's deadline ends the call, but the request is already
    // on its way and the daemon carries it out once it runs again. Whoever calls start must
    // treat a start that timed out as "may be running", never as "not started".
    std::string base =
        std::filesystem::temp_directory_path() / ("storkit-virt-bed-" + std::to_string(::getpid()));
    std::string nodes = std::string(STORKIT_SOURCE_DIR) + "/scripts/testbed/libvirt-nodes";
    auto bed = [&](std::vector<std::string> args) {
        storkit::ExecRequest req;
        req.argv = {nodes};
        req.argv.insert(req.argv.end(), args.begin(), args.end());
        req.env = {{"BASE", base}};
        req.timeout = milliseconds(60000);
        storkit::ExecResult r = storkit::run_command(req);
        INFO("libvirt-nodes " << args[0] << ": " << r.describe() << " " << r.err);
        REQUIRE(r.ok());
        return r.out;
    };
    bed({"up", "1"});
    std::string uri = bed({"uri", "1"});
    uri.erase(uri.find_last_not_of("\n") + 1);
    pid_t daemon = std::stoi(bed({"pid", "1"}));
    std::string xml = std::string(STORKIT_SOURCE_DIR) + "/test/fixtures/mgmt.xml";

    REQUIRE(virt::query(uri, "mgmt", milliseconds(5000)).active == Tri::kNo);
    REQUIRE(::kill(daemon, SIGSTOP) == 0);
    auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(virt::start(uri, "mgmt", xml, milliseconds(300)),
                      Catch::Contains("no answer within 300 ms"));
    CHECK(std::chrono::steady_clock::now() - t0 < milliseconds(3000));
    ::kill(daemon, SIGCONT);
    Tri after = Tri::kNo;
    for (int i = 0; i < 50 && after != Tri::kYes; ++i) {
        std::this_thread::sleep_for(milliseconds(100));
        after = virt::query(uri, "mgmt", milliseconds(5000)).active;
    }
    CHECK(after == Tri::kYes);

    // An operator's pause is reported as such (never taken for an I/O error), and resume
    // undoes a pause.
    storkit::ExecRequest suspend;
    suspend.argv = {"/usr/bin/virsh", "-q", "-c", uri, "suspend", "mgmt"};
    suspend.timeout = milliseconds(20000);
    storkit::ExecResult suspended = storkit::run_command(suspend);
    INFO("virsh suspend: " << suspended.describe() << " " << suspended.err);
    REQUIRE(suspended.ok());
    virt::DomainStatus paused = virt::query(uri, "mgmt", milliseconds(5000));
    CHECK(paused.state == "paused");
    CHECK(paused.active == Tri::kYes);
    CHECK(paused.paused == virt::Pause::kOperator);
    CHECK(paused.pause_reason == "operator");
    virt::resume(uri, "mgmt", milliseconds(5000));
    virt::DomainStatus resumed = virt::query(uri, "mgmt", milliseconds(5000));
    CHECK(resumed.state == "running");
    CHECK(resumed.paused == virt::Pause::kNone);
    CHECK_THROWS_WITH(virt::resume(uri, "nosuch", milliseconds(5000)),
                      Catch::Contains("no such domain"));
    bed({"down"});
    std::filesystem::remove_all(base);
}
