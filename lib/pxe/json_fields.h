// Internal to lib/pxe: reading fields of the JSON files pxe-report, pxe-provision and
// pxe-monitor share, where a missing or mistyped field reads as empty.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace storkit {

// The string at `key`, or "" when it is absent or not a string.
inline std::string json_string(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The unsigned integer at `key`, or 0 when it is absent or anything else (a decimal, a
// negative number: never cast).
inline uint64_t json_unsigned(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// The number at `key`, or 0 when it is absent or not a number.
inline double json_number(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0;
}

}  // namespace storkit
