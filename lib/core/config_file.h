// Reading JSON configuration files with errors that name the file and the key path.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace storkit {

class ConfigError;

// The problems found while reading one config file. A ConfigNode given one records each
// problem here and goes on with a fallback value, so that one run reports them all; the loader
// calls checkpoint() at the end (as mold collects errors per item and exits once).
class ConfigErrors {
  public:
    // Records `message`, the problem at key path `path` ("" for none). A problem at or below a
    // path that has one already is dropped: it follows from the first (the keys of a missing
    // section, a later check of a value that did not read).
    void add(const std::string& path, const std::string& message);
    // Whether a problem was recorded at `path` or at a section above it.
    bool failed(const std::string& path) const;
    // Notes that the object at `path` holds an unknown key. A key then missing from that object
    // is most likely the unknown one misspelled: it is marked failed, but not reported again.
    void unknown_key_in(const std::string& path);
    bool has_unknown_key(const std::string& path) const;
    void covered(const std::string& path) { problems_.push_back({path, ""}); }
    bool empty() const;
    // Throws one ConfigError with every problem, one per line in the order found; none: returns.
    void checkpoint() const;

  private:
    struct Problem {
        std::string path;
        std::string message;
    };
    std::vector<Problem> problems_;
    std::vector<std::string> objects_with_unknown_keys_;
};

// The keys one object of a config file may hold. `path` is the object's key path: "" for the
// top level, "nodes.NAME" for every entry of an object of objects. A table of these per file
// lists what allow_only() accepts, for the unit test that the man page documents exactly these.
struct ConfigSection {
    std::string_view path;
    std::span<const std::string_view> keys;
};

// A view of one JSON object inside a config file. A problem names the file, the key path
// (e.g. `storage.timeout_s`) and what was expected; without a ConfigErrors it throws
// ConfigError, with one it is recorded there and the accessor returns its fallback (or an
// empty value).
class ConfigNode {
  public:
    ConfigNode(const nlohmann::json* value, std::string file, std::string path,
               ConfigErrors* errors = nullptr);

    const std::string& file() const { return file_; }
    const std::string& path() const { return path_; }
    bool has(const std::string& key) const;
    // A problem for every key of this object not in `allowed` (catches typos in key names).
    void allow_only(std::span<const std::string_view> allowed) const;

    std::string string(const std::string& key) const;  // "" after a problem
    std::string string_or(const std::string& key, const std::string& fallback) const;
    bool boolean_or(const std::string& key, bool fallback) const;
    // A number greater than 0 and at most `max` (integers and decimals): a duration in seconds,
    // a size. Every caller names its ceiling: a huge value would overflow what it becomes.
    double positive_or(const std::string& key, double fallback, double max) const;
    long integer_or(const std::string& key, long fallback, long min, long max) const;
    // A non-empty array of strings, e.g. a command's argv; empty after a problem.
    std::vector<std::string> argv(const std::string& key) const;
    std::optional<std::vector<std::string>> argv_opt(const std::string& key) const;
    // An array of non-empty strings (may be empty), or `fallback` when the key is absent.
    std::vector<std::string> strings_or(const std::string& key,
                                        const std::vector<std::string>& fallback) const;
    // The object at `key`; after a problem, an empty object whose keys report nothing more.
    ConfigNode object(const std::string& key) const;
    // The object at `key`, or an empty one when the key is absent (every key at its default).
    ConfigNode section(const std::string& key) const;
    // Keys of an object-valued key, in file order is not kept: sorted.
    std::vector<std::string> keys() const;

    // A problem with `key` ("" for this object itself): "FILE: key 'PATH': WHAT".
    void problem(const std::string& key, const std::string& what) const;
    // A ConfigError about `key` from a check elsewhere (e.g. a trust check), message unchanged.
    void problem(const std::string& key, const ConfigError& e) const;
    // False once a problem was recorded at `key` (a key path below this object) or above it:
    // checks that combine several keys run only on keys that read well.
    bool ok(const std::string& key) const;
    std::string key_path(const std::string& key) const;

  private:
    const nlohmann::json* at(const std::string& key) const;  // nullptr after a problem
    void record(const std::string& key, const std::string& message) const;
    const nlohmann::json* value_;
    std::string file_;
    std::string path_;
    ConfigErrors* errors_;
};

// A whole config file held in memory; root() is the top-level object.
// Its implicit moves are nlohmann::json's noexcept ones; clang-tidy 14 takes the
// assert_invariant() they call for one that throws.
class ConfigFile {  // NOLINT(bugprone-exception-escape)
  public:
    // Reads and parses `path`; throws ConfigError on a missing file, bad JSON or a non-object.
    static ConfigFile load(const std::string& path);
    // The top-level object: problems throw, or with `errors` are recorded there.
    ConfigNode root() const { return ConfigNode(&json_, path_, ""); }
    ConfigNode root(ConfigErrors& errors) const { return ConfigNode(&json_, path_, "", &errors); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    nlohmann::json json_;
};

std::chrono::milliseconds seconds_to_ms(double seconds);

}  // namespace storkit
