#include "core/report.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace storkit;

TEST_CASE("a line goes to the sink the runner set, as it is said") {
    Report r;
    std::vector<std::string> got;
    r.on_line = [&got](const std::string& s) { got.push_back(s); };
    r.line("node1 on");
    CHECK(got == std::vector<std::string>{"node1 on"});
    r.line("node2 off");
    CHECK(got == std::vector<std::string>{"node1 on", "node2 off"});
    CHECK(r.text.empty());
}

TEST_CASE("without a sink, lines are kept in the text, one per line") {
    Report r;
    r.text = "HEADER\n";
    r.line("a");
    r.line("b");
    CHECK(r.text == "HEADER\na\nb\n");
}

TEST_CASE("the JSON object has the common fields and the tool's data at the top level") {
    Report r;
    r.tool = "pxe-report";
    r.failed = true;
    r.rc = 1;
    r.msg = "why";
    r.text = "not in the JSON";
    r.response = "Status: 500 Internal Server Error\r\n\r\n";
    r.data["event"] = {{"mac", "52:54:00:00:00:01"}};
    nlohmann::json j = r.to_json();
    CHECK(j["tool"] == "pxe-report");
    CHECK(j["failed"] == true);
    CHECK(j["rc"] == 1);
    CHECK(j["msg"] == "why");
    CHECK(j["event"]["mac"] == "52:54:00:00:00:01");
    CHECK_FALSE(j.contains("text"));
    CHECK_FALSE(j.contains("response"));
}
