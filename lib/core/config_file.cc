#include "core/config_file.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/statefile.h"

namespace storkit {

using nlohmann::json;

namespace {

std::string type_name(const json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number()) return "the number " + clipped(v.dump(), 80);
    if (v.is_string()) return "the string " + clipped(v.dump(), 80);
    if (v.is_array()) return "an array";
    return "an object";
}

// A config larger than this is no config (10,000 nodes take about 1.5 MB).
constexpr size_t kMaxConfigBytes = 64 << 20;

// Parses `text`, refusing a key given twice in one object: JSON parsers keep only one of them,
// silently, and the one kept is rarely the one the operator meant.
json parse_unique_keys(const std::string& text, const std::string& path) {
    struct Frame {
        bool object;
        std::set<std::string> keys;
        std::string current;
    };
    std::vector<Frame> stack;
    auto cb = [&](int, json::parse_event_t event, json& value) {
        switch (event) {
            case json::parse_event_t::object_start: stack.push_back({true, {}, {}}); break;
            case json::parse_event_t::array_start: stack.push_back({false, {}, {}}); break;
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                if (!stack.empty()) stack.pop_back();
                break;
            case json::parse_event_t::key: {
                Frame& f = stack.back();
                f.current = value.get<std::string>();
                if (!f.keys.insert(f.current).second) {
                    std::string where;
                    for (const Frame& g : stack)
                        if (g.object) where += (where.empty() ? "" : ".") + g.current;
                    throw ConfigError(fmt::format("{}: key '{}': given twice in one object", path,
                                                  clipped(where, 200)));
                }
                break;
            }
            default: break;
        }
        return true;
    };
    return json::parse(text, cb);
}

const json& empty_object() {
    static const json empty = json::object();
    return empty;
}

std::string join(std::span<const std::string_view> names) {
    return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

void ConfigErrors::add(const std::string& path, const std::string& message) {
    if (!path.empty() && failed(path)) return;
    problems_.push_back({path, clipped(message, 1000)});
}

bool ConfigErrors::failed(const std::string& path) const {
    return std::any_of(problems_.begin(), problems_.end(), [&](const Problem& p) {
        return !p.path.empty() && path.compare(0, p.path.size(), p.path) == 0 &&
               (path.size() == p.path.size() || path[p.path.size()] == '.');
    });
}

void ConfigErrors::unknown_key_in(const std::string& path) {
    objects_with_unknown_keys_.push_back(path);
}

bool ConfigErrors::has_unknown_key(const std::string& path) const {
    return std::find(objects_with_unknown_keys_.begin(), objects_with_unknown_keys_.end(), path) !=
           objects_with_unknown_keys_.end();
}

bool ConfigErrors::empty() const {
    return std::all_of(problems_.begin(), problems_.end(),
                       [](const Problem& p) { return p.message.empty(); });
}

void ConfigErrors::checkpoint() const {
    std::vector<std::string_view> lines;
    for (const Problem& p : problems_)
        if (!p.message.empty()) lines.push_back(p.message);
    if (!lines.empty()) throw ConfigError(fmt::format("{}", fmt::join(lines, "\n")));
}

ConfigNode::ConfigNode(const json* value, std::string file, std::string path, ConfigErrors* errors)
    : value_(value), file_(std::move(file)), path_(std::move(path)), errors_(errors) {}

std::string ConfigNode::key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
}

void ConfigNode::record(const std::string& key, const std::string& message) const {
    if (!errors_) throw ConfigError(message);
    errors_->add(key.empty() ? path_ : key_path(key), message);
}

void ConfigNode::problem(const std::string& key, const std::string& what) const {
    std::string where = key.empty() ? (path_.empty() ? "top level" : path_) : key_path(key);
    record(key, fmt::format("{}: key '{}': {}", file_, where, what));
}

void ConfigNode::problem(const std::string& key, const ConfigError& e) const {
    record(key, e.what());
}

bool ConfigNode::ok(const std::string& key) const {
    return !errors_ || !errors_->failed(key_path(key));
}

bool ConfigNode::has(const std::string& key) const {
    return value_->is_object() && value_->contains(key);
}

void ConfigNode::allow_only(std::span<const std::string_view> allowed) const {
    for (auto it = value_->begin(); it != value_->end(); ++it) {
        bool known = std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end();
        if (known) continue;
        problem(it.key(), fmt::format("unknown key (known here: {})", join(allowed)));
        if (errors_) errors_->unknown_key_in(path_);
    }
}

const json* ConfigNode::at(const std::string& key) const {
    if (has(key)) return &(*value_)[key];
    if (errors_ && errors_->has_unknown_key(path_))
        errors_->covered(key_path(key));
    else
        problem(key, "missing");
    return nullptr;
}

std::string ConfigNode::string(const std::string& key) const {
    const json* v = at(key);
    if (!v) return "";
    if (v->is_string() && !v->get<std::string>().empty()) return v->get<std::string>();
    problem(key, "expected a non-empty string, got " + type_name(*v));
    return "";
}

std::string ConfigNode::string_or(const std::string& key, const std::string& fallback) const {
    return has(key) ? string(key) : fallback;
}

bool ConfigNode::boolean_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = (*value_)[key];
    if (v.is_boolean()) return v.get<bool>();
    problem(key, "expected true or false, got " + type_name(v));
    return fallback;
}

double ConfigNode::positive_or(const std::string& key, double fallback, double max) const {
    if (!has(key)) return fallback;
    const json& v = (*value_)[key];
    if (v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() > 0 &&
        v.get<double>() <= max)
        return v.get<double>();
    problem(key, fmt::format("expected a number greater than 0 and at most {}, got {}", max,
                             type_name(v)));
    return fallback;
}

long ConfigNode::integer_or(const std::string& key, long fallback, long min, long max) const {
    if (!has(key)) return fallback;
    const json& v = (*value_)[key];
    if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > LONG_MAX) &&
        v.get<long>() >= min && v.get<long>() <= max)
        return v.get<long>();
    problem(key, fmt::format("expected an integer from {} to {}, got {}", min, max, type_name(v)));
    return fallback;
}

std::vector<std::string> ConfigNode::argv(const std::string& key) const {
    const json* v = at(key);
    if (!v) return {};
    if (!v->is_array() || v->empty()) {
        problem(key, "expected a command as a non-empty array of strings, got " + type_name(*v));
        return {};
    }
    std::vector<std::string> out;
    for (const json& e : *v) {
        if (!e.is_string()) {
            problem(key, "every element must be a string, got " + type_name(e));
            return {};
        }
        out.push_back(e.get<std::string>());
    }
    if (out[0].empty() || out[0][0] != '/') {
        problem(key, fmt::format("the program must be an absolute path, got \"{}\"", out[0]));
        return {};
    }
    return out;
}

std::optional<std::vector<std::string>> ConfigNode::argv_opt(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    std::vector<std::string> a = argv(key);
    if (a.empty()) return std::nullopt;
    return a;
}

std::vector<std::string> ConfigNode::strings_or(const std::string& key,
                                                const std::vector<std::string>& fallback) const {
    if (!has(key)) return fallback;
    const json& v = (*value_)[key];
    if (!v.is_array()) {
        problem(key, "expected an array of strings, got " + type_name(v));
        return fallback;
    }
    std::vector<std::string> out;
    for (const json& e : v) {
        if (!e.is_string() || e.get<std::string>().empty()) {
            problem(key, "every element must be a non-empty string, got " + type_name(e));
            return fallback;
        }
        out.push_back(e.get<std::string>());
    }
    return out;
}

ConfigNode ConfigNode::object(const std::string& key) const {
    const json* v = at(key);
    if (v && !v->is_object()) {
        problem(key, "expected an object, got " + type_name(*v));
        v = nullptr;
    }
    // After a problem every key below reads as missing, and the problem at `key` covers them.
    return ConfigNode(v ? v : &empty_object(), file_, key_path(key), errors_);
}

ConfigNode ConfigNode::section(const std::string& key) const {
    if (!has(key)) return ConfigNode(&empty_object(), file_, key_path(key), errors_);
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
        text = read_input_file(path, kMaxConfigBytes);
    } catch (const Error& e) {
        throw ConfigError(e.what());
    }
    if (!text) throw ConfigError(fmt::format("{}: cannot read config: no such file", path));
    ConfigFile cf;
    cf.path_ = path;
    try {
        cf.json_ = parse_unique_keys(*text, path);
    } catch (const json::parse_error& e) {
        // Turn the byte offset into line:column, which is what an editor shows.
        size_t pos = std::min<size_t>(e.byte, text->size());
        size_t line = 1 + std::count(text->begin(), text->begin() + (pos ? pos - 1 : 0), '\n');
        size_t nl = text->rfind('\n', pos ? pos - 1 : 0);
        size_t col = nl == std::string::npos ? pos : pos - nl - 1;
        throw ConfigError(fmt::format("{}:{}:{}: invalid JSON", path, line, col));
    } catch (const json::exception& e) {
        // A number too large for a double (2e308): the parser names it, without a position.
        std::string what = e.what();
        size_t tag = what.find("] ");
        throw ConfigError(
            fmt::format("{}: invalid JSON: {}", path,
                        clipped(tag == std::string::npos ? what : what.substr(tag + 2), 200)));
    }
    if (!cf.json_.is_object())
        throw ConfigError(fmt::format("{}: expected a JSON object at the top level", path));
    return cf;
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
    return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000.0)));
}

}  // namespace storkit
