#include "core/config_file.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/statefile.h"

namespace storkit {

using nlohmann::json;

namespace {

std::string type_name(const json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number()) return "the number " + v.dump();
    if (v.is_string()) return "the string " + v.dump();
    if (v.is_array()) return "an array";
    return "an object";
}

}  // namespace

ConfigNode::ConfigNode(const json* value, std::string file, std::string path)
    : value_(value), file_(std::move(file)), path_(std::move(path)) {}

std::string ConfigNode::key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
}

void ConfigNode::fail(const std::string& key, const std::string& what) const {
    std::string where = key.empty() ? (path_.empty() ? "top level" : path_) : key_path(key);
    throw ConfigError(fmt::format("{}: key '{}': {}", file_, where, what));
}

bool ConfigNode::has(const std::string& key) const {
    return value_->is_object() && value_->contains(key);
}

void ConfigNode::allow_only(std::initializer_list<const char*> allowed) const {
    for (auto it = value_->begin(); it != value_->end(); ++it) {
        bool known = std::any_of(allowed.begin(), allowed.end(),
                                 [&](const char* k) { return it.key() == k; });
        if (!known) {
            std::string list;
            for (const char* k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
            fail(it.key(), fmt::format("unknown key (known here: {})", list));
        }
    }
}

const json& ConfigNode::at(const std::string& key) const {
    if (!has(key)) fail(key, "missing");
    return (*value_)[key];
}

std::string ConfigNode::string(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_string() || v.get<std::string>().empty())
        fail(key, "expected a non-empty string, got " + type_name(v));
    return v.get<std::string>();
}

std::string ConfigNode::string_or(const std::string& key, const std::string& fallback) const {
    return has(key) ? string(key) : fallback;
}

bool ConfigNode::boolean_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_boolean()) fail(key, "expected true or false, got " + type_name(v));
    return v.get<bool>();
}

double ConfigNode::positive_or(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0)
        fail(key, "expected a number greater than 0, got " + type_name(v));
    return v.get<double>();
}

long ConfigNode::integer_or(const std::string& key, long fallback, long min, long max) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_number_integer() || v.get<long>() < min || v.get<long>() > max)
        fail(key, fmt::format("expected an integer from {} to {}, got {}", min, max, type_name(v)));
    return v.get<long>();
}

std::vector<std::string> ConfigNode::argv(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_array() || v.empty())
        fail(key, "expected a command as a non-empty array of strings, got " + type_name(v));
    std::vector<std::string> out;
    for (const json& e : v) {
        if (!e.is_string()) fail(key, "every element must be a string, got " + type_name(e));
        out.push_back(e.get<std::string>());
    }
    if (out[0].empty() || out[0][0] != '/')
        fail(key, fmt::format("the program must be an absolute path, got \"{}\"", out[0]));
    return out;
}

std::optional<std::vector<std::string>> ConfigNode::argv_opt(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return argv(key);
}

std::vector<std::string> ConfigNode::strings_or(const std::string& key,
                                                const std::vector<std::string>& fallback) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_array()) fail(key, "expected an array of strings, got " + type_name(v));
    std::vector<std::string> out;
    for (const json& e : v) {
        if (!e.is_string() || e.get<std::string>().empty())
            fail(key, "every element must be a non-empty string, got " + type_name(e));
        out.push_back(e.get<std::string>());
    }
    return out;
}

ConfigNode ConfigNode::object(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_object()) fail(key, "expected an object, got " + type_name(v));
    return ConfigNode(&v, file_, key_path(key));
}

ConfigNode ConfigNode::section(const std::string& key) const {
    static const json empty = json::object();
    if (!has(key)) return ConfigNode(&empty, file_, key_path(key));
    return object(key);
}

std::vector<std::string> ConfigNode::keys() const {
    std::vector<std::string> out;
    for (auto it = value_->begin(); it != value_->end(); ++it) out.push_back(it.key());
    return out;
}

ConfigFile ConfigFile::load(const std::string& path) {
    std::optional<std::string> text;
    try {
        text = read_file(path);
    } catch (const Error& e) {
        throw ConfigError(e.what());
    }
    if (!text) throw ConfigError(fmt::format("{}: cannot read config: no such file", path));
    ConfigFile cf;
    cf.path_ = path;
    try {
        cf.json_ = json::parse(*text);
    } catch (const json::parse_error& e) {
        // Turn the byte offset into line:column, which is what an editor shows.
        size_t pos = std::min<size_t>(e.byte, text->size());
        size_t line = 1 + std::count(text->begin(), text->begin() + (pos ? pos - 1 : 0), '\n');
        size_t nl = text->rfind('\n', pos ? pos - 1 : 0);
        size_t col = nl == std::string::npos ? pos : pos - nl - 1;
        throw ConfigError(fmt::format("{}:{}:{}: invalid JSON", path, line, col));
    }
    if (!cf.json_.is_object())
        throw ConfigError(fmt::format("{}: expected a JSON object at the top level", path));
    return cf;
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
    return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000.0)));
}

}  // namespace storkit
