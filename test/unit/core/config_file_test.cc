#include "core/config_file.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.h"

using namespace storkit;
using nlohmann::json;

namespace {

constexpr std::string_view kRootKeys[] = {"net", "limits", "paths"};
constexpr std::string_view kNetKeys[] = {"name", "mtu"};
constexpr std::string_view kLimitKeys[] = {"retries", "timeout_s"};

const json kConfig = json::parse(R"({
  "net": {"name": "data", "mtu": 1500},
  "limits": {"retries": 3, "timeout_s": 2.5}
})");

// Reads the whole test config the way a loader does; returns what checkpoint() throws ("" when
// nothing).
std::string load(const json& config) {
    ConfigErrors errors;
    ConfigNode root(&config, "t.json", "", &errors);
    root.allow_only(kRootKeys);
    ConfigNode net = root.object("net");
    net.allow_only(kNetKeys);
    net.string("name");
    net.integer_or("mtu", 1500, 576, 9000);
    ConfigNode limits = root.section("limits");
    limits.allow_only(kLimitKeys);
    limits.integer_or("retries", 1, 0, 10);
    limits.positive_or("timeout_s", 5, 600);
    try {
        errors.checkpoint();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

json with(const std::string& pointer, const json& value) {
    json j = kConfig;
    j[json::json_pointer(pointer)] = value;
    return j;
}

}  // namespace

TEST_CASE("without a ConfigErrors the first problem throws") {
    ConfigNode root(&kConfig, "t.json", "");
    CHECK_THROWS_WITH(root.object("net").integer_or("mtu", 0, 576, 1400),
                      "t.json: key 'net.mtu': expected an integer from 576 to 1400, got the "
                      "number 1500");
    CHECK_THROWS_WITH(root.string("nope"), "t.json: key 'nope': missing");
    CHECK(root.ok("net.mtu"));
}

TEST_CASE("a good config passes the checkpoint") {
    CHECK(load(kConfig) == "");
}

TEST_CASE("three bad keys in different sections are reported in one run, in order") {
    json j = kConfig;
    j["nte"] = json::object();    // an unknown key at the top level
    j["net"]["name"] = 7;         // a wrong type
    j["limits"]["retries"] = 11;  // out of range
    CHECK(load(j) ==
          "t.json: key 'nte': unknown key (known here: net, limits, paths)\n"
          "t.json: key 'net.name': expected a non-empty string, got the number 7\n"
          "t.json: key 'limits.retries': expected an integer from 0 to 10, got the number 11");
}

TEST_CASE("one problem is one message: what follows from it is not reported") {
    // A missing section: its keys are not reported missing one by one.
    json j = kConfig;
    j.erase("net");
    CHECK(load(j) == "t.json: key 'net': missing");
    // A section of the wrong type, likewise.
    CHECK(load(with("/net", json::array())) ==
          "t.json: key 'net': expected an object, got an array");
    // A misspelt key is reported as unknown, not also as missing.
    j = kConfig;
    j["net"].erase("name");
    j["net"]["nmae"] = "data";
    CHECK(load(j) == "t.json: key 'net.nmae': unknown key (known here: name, mtu)");
    // Absent optional sections read as empty.
    j = kConfig;
    j.erase("limits");
    CHECK(load(j) == "");
}

TEST_CASE("a recorded problem gives the fallback and marks the key and what is below it") {
    ConfigErrors errors;
    json config = with("/limits/timeout_s", "2");
    ConfigNode root(&config, "t.json", "", &errors);
    ConfigNode limits = root.object("limits");
    CHECK(limits.positive_or("timeout_s", 5, 600) == 5);
    CHECK(limits.integer_or("retries", 1, 0, 10) == 3);
    CHECK_FALSE(limits.ok("timeout_s"));
    CHECK_FALSE(root.ok("limits.timeout_s"));
    CHECK(limits.ok("retries"));
    CHECK(root.ok("limits"));
    // A later check of the same key adds nothing.
    limits.problem("timeout_s", "must be below 2");
    CHECK(root.string("gone") == "");
    CHECK_FALSE(root.ok("gone.below"));
    CHECK_FALSE(errors.empty());
    CHECK_THROWS_WITH(errors.checkpoint(),
                      "t.json: key 'limits.timeout_s': expected a number greater than 0 and at "
                      "most 600, got the string \"2\"\nt.json: key 'gone': missing");
}

TEST_CASE("a ConfigError from elsewhere is recorded with its message unchanged") {
    ConfigErrors errors;
    ConfigNode root(&kConfig, "t.json", "", &errors);
    root.problem("net", ConfigError("command net: /x is writable by others"));
    CHECK_FALSE(root.ok("net.name"));
    CHECK_THROWS_WITH(errors.checkpoint(), "command net: /x is writable by others");
}

// A number past its ceiling would overflow what it becomes (1e308 s as milliseconds).
TEST_CASE("a key given twice in one object is refused, naming where") {
    namespace fs = std::filesystem;
    std::string dir = fs::temp_directory_path() / "storkit-dupkeys";
    fs::create_directories(dir);
    auto load_text = [&](const std::string& text) -> std::string {
        std::string path = dir + "/c.json";
        std::ofstream(path) << text;
        try {
            ConfigFile::load(path);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    };
    CHECK(load_text(R"({"a": 1, "a": 2})") == dir + "/c.json: key 'a': given twice in one object");
    // Found by the config fuzzer: a number past a double's range was an internal error.
    CHECK(load_text(R"({"node": 2e308})") ==
          dir + "/c.json: invalid JSON: number overflow parsing '2e308'");
    CHECK(load_text(R"({"nodes": {"n1": {"mac": "x", "ip": "y", "mac": "z"}}})") ==
          dir + "/c.json: key 'nodes.n1.mac': given twice in one object");
    // The same key in different objects, or in objects of an array, is fine.
    CHECK(load_text(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}], "x": 3})") == "");
    CHECK(load_text(R"({"a": [[{"k": 1}], {"k": 2}], "k": {"k": {"k": 1}}})") == "");
    // A FIFO or device as the config is refused at once.
    CHECK_THAT(load_text(R"({})"), Catch::Equals(""));
    try {
        ConfigFile::load("/dev/zero");
        FAIL("loaded /dev/zero");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == "/dev/zero: not a regular file");
    }
    fs::remove_all(dir);
}

// 18446744073709551611 read as a long is -5: it must not pass a range that allows -5.
TEST_CASE("an integer past a long's range is refused, not wrapped") {
    json j = {{"n", 18446744073709551611ULL}};
    ConfigErrors errors;
    ConfigNode root(&j, "t.json", "", &errors);
    CHECK(root.integer_or("n", 1, -10, 10) == 1);
    CHECK_THROWS_WITH(errors.checkpoint(), Catch::Contains("expected an integer from -10 to 10"));
}

TEST_CASE("a positive number has a ceiling") {
    CHECK(load(with("/limits/timeout_s", 600)) == "");
    CHECK(load(with("/limits/timeout_s", 1e308)) ==
          "t.json: key 'limits.timeout_s': expected a number greater than 0 and at most 600, got "
          "the number 1e+308");
    CHECK(load(with("/limits/timeout_s", 600.5)) ==
          "t.json: key 'limits.timeout_s': expected a number greater than 0 and at most 600, got "
          "the number 600.5");
}

// A value from a file can be megabytes: a message names it, it does not repeat it.
TEST_CASE("a huge value is clipped in the message") {
    std::string big(1 << 20, 'x');
    std::string msg = load(with("/net/mtu", big));
    CHECK(msg.size() < 300);
    CHECK(msg.find("got the string \"xxxx") != std::string::npos);
    CHECK(msg.find("... (1048578 bytes)") != std::string::npos);
}

TEST_CASE("clipped keeps short text and never cuts a UTF-8 character") {
    CHECK(clipped("short", 10) == "short");
    CHECK(clipped("abcdef", 3) == "abc... (6 bytes)");
    // "é" is two bytes (C3 A9): a cut between them backs up before it.
    CHECK(clipped("ab\xc3\xa9z", 3) == "ab... (5 bytes)");
}
