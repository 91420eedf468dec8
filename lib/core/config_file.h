// Reading JSON configuration files with errors that name the file and the key path.
#pragma once

#include <chrono>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace storkit {

// A view of one JSON object inside a config file. Every accessor throws ConfigError naming
// the file, the key path (e.g. `storage.timeout_s`) and what was expected.
class ConfigNode {
  public:
    ConfigNode(const nlohmann::json* value, std::string file, std::string path);

    const std::string& file() const { return file_; }
    const std::string& path() const { return path_; }
    bool has(const std::string& key) const;
    // Throws unless every key of this object is in `allowed` (catches typos in key names).
    void allow_only(std::initializer_list<const char*> allowed) const;

    std::string string(const std::string& key) const;
    std::string string_or(const std::string& key, const std::string& fallback) const;
    bool boolean_or(const std::string& key, bool fallback) const;
    // A number > 0 (accepts integers and decimals).
    double positive_or(const std::string& key, double fallback) const;
    long integer_or(const std::string& key, long fallback, long min, long max) const;
    // A non-empty array of strings, e.g. a command's argv.
    std::vector<std::string> argv(const std::string& key) const;
    std::optional<std::vector<std::string>> argv_opt(const std::string& key) const;
    // An array of non-empty strings (may be empty), or `fallback` when the key is absent.
    std::vector<std::string> strings_or(const std::string& key,
                                        const std::vector<std::string>& fallback) const;
    ConfigNode object(const std::string& key) const;
    // The object at `key`, or an empty one when the key is absent (every key at its default).
    ConfigNode section(const std::string& key) const;
    // Keys of an object-valued key, in file order is not kept: sorted.
    std::vector<std::string> keys() const;

    [[noreturn]] void fail(const std::string& key, const std::string& what) const;
    std::string key_path(const std::string& key) const;

  private:
    const nlohmann::json& at(const std::string& key) const;
    const nlohmann::json* value_;
    std::string file_;
    std::string path_;
};

// A whole config file held in memory; root() is the top-level object.
class ConfigFile {
  public:
    // Reads and parses `path`; throws ConfigError on a missing file, bad JSON or a non-object.
    static ConfigFile load(const std::string& path);
    ConfigNode root() const { return ConfigNode(&json_, path_, ""); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    nlohmann::json json_;
};

std::chrono::milliseconds seconds_to_ms(double seconds);

}  // namespace storkit
