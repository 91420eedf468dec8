// The result object every tool produces: printed as one JSON object with --json, or as
// `tool: error: msg` on stderr when it failed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace storkit {

struct Report {
    std::string tool;
    bool changed = false;
    bool failed = false;
    std::string msg;
    int rc = 0;
    // What a reporting tool shows a person (a table); printed on stdout unless --json.
    std::string text;
    // Tool-specific fields, merged into the top level of the JSON object.
    nlohmann::json data = nlohmann::json::object();

    nlohmann::json to_json() const;
};

}  // namespace storkit
