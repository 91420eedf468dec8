#include "core/host_range.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "core/error.h"

namespace storkit {

namespace {

// One "[...]" group: the numbers it stands for, already formatted.
using Choices = std::vector<std::string>;

[[noreturn]] void bad(const std::string& entry, const std::string& why) {
    throw ConfigError(fmt::format("host range '{}': {}", clipped(entry, 80), why));
}

bool all_digits(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

unsigned long to_number(const std::string& s, const std::string& entry) {
    unsigned long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!all_digits(s) || ec != std::errc() || end != s.data() + s.size())
        bad(entry, fmt::format("'{}' is not a number", clipped(s, 40)));
    return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t pos = s.find(sep, start);
        out.push_back(s.substr(start, pos - start));
        if (pos == std::string::npos) return out;
        start = pos + 1;
    }
}

Choices expand_group(const std::string& body, const std::string& entry) {
    Choices out;
    for (const std::string& item : split(body, ',')) {
        size_t dash = item.find('-');
        std::string first = item.substr(0, dash);
        std::string last = dash == std::string::npos ? first : item.substr(dash + 1);
        unsigned long lo = to_number(first, entry), hi = to_number(last, entry);
        if (lo > hi) bad(entry, fmt::format("range {} goes backwards", clipped(item, 40)));
        if (hi - lo >= kMaxHosts)
            bad(entry, fmt::format("range {} is too large", clipped(item, 40)));
        // A leading zero asks for a fixed width: [01-10] gives 01, 02, ... 10.
        size_t width = first.size() > 1 && first[0] == '0' ? first.size() : 0;
        if (width > kMaxHostName)
            bad(entry, fmt::format("a host name longer than {} characters", kMaxHostName));
        if (out.size() + (hi - lo) >= kMaxHosts)
            bad(entry, fmt::format("expands to more than {} hosts", kMaxHosts));
        for (unsigned long v = lo; v <= hi; ++v) {
            std::string n = std::to_string(v);
            if (n.size() < width) n.insert(0, width - n.size(), '0');
            out.push_back(std::move(n));
        }
    }
    return out;
}

size_t longest(const std::vector<std::string>& v) {
    size_t n = 0;
    for (const std::string& s : v) n = std::max(n, s.size());
    return n;
}

// Splits "10.0.[1-2].[3,5]" into literal pieces and groups, then multiplies them out. Sizes are
// checked before anything is multiplied.
std::vector<std::string> expand_name(const std::string& name, const std::string& entry) {
    std::vector<std::string> results{""};
    size_t pos = 0;
    auto too_long = [&] {
        bad(entry, fmt::format("a host name longer than {} characters", kMaxHostName));
    };
    while (pos < name.size()) {
        size_t open = name.find('[', pos);
        std::string literal = name.substr(pos, open - pos);
        if (literal.find(']') != std::string::npos) bad(entry, "']' without '['");
        if (longest(results) + literal.size() > kMaxHostName) too_long();
        for (std::string& r : results) r += literal;
        if (open == std::string::npos) break;
        size_t close = name.find(']', open);
        if (close == std::string::npos) bad(entry, "'[' without ']'");
        Choices choices = expand_group(name.substr(open + 1, close - open - 1), entry);
        if (results.size() * choices.size() > kMaxHosts)
            bad(entry, fmt::format("expands to more than {} hosts", kMaxHosts));
        if (longest(results) + longest(choices) > kMaxHostName) too_long();
        std::vector<std::string> next;
        next.reserve(results.size() * choices.size());
        for (const std::string& r : results)
            for (const std::string& c : choices) next.push_back(r + c);
        results = std::move(next);
        pos = close + 1;
    }
    return results;
}

bool valid_host_char(unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_';
}

// Commas inside brackets belong to the bracket: "a[1,2],b" is two entries.
std::vector<std::string> split_entries(const std::string& spec) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    for (char c : spec) {
        if (c == '[') ++depth;
        if (c == ']') --depth;
        if (c == ',' && depth == 0) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

}  // namespace

std::vector<std::string> expand_hosts(const std::string& spec, int default_port) {
    std::vector<std::string> hosts;
    std::set<std::string> seen;
    for (const std::string& entry : split_entries(spec)) {
        if (entry.empty()) bad(spec, "empty entry (two commas, or a comma at an end)");
        std::string name = entry;
        int port = default_port;
        size_t colon = entry.rfind(':');
        if (colon != std::string::npos) {
            name = entry.substr(0, colon);
            std::string p = entry.substr(colon + 1);
            if (name.find(':') != std::string::npos) bad(entry, "IPv6 addresses are not supported");
            unsigned long v = to_number(p, entry);
            if (v < 1 || v > 65535) bad(entry, fmt::format("port {} is out of range", p));
            port = static_cast<int>(v);
        }
        if (name.empty()) bad(entry, "no host name");
        for (std::string& host : expand_name(name, entry)) {
            if (!std::all_of(host.begin(), host.end(), valid_host_char))
                bad(entry, fmt::format("'{}' is not a host name or IPv4 address", host));
            std::string full = fmt::format("{}:{}", host, port);
            if (!seen.insert(full).second) bad(entry, fmt::format("{} is given twice", full));
            hosts.push_back(std::move(full));
            if (hosts.size() > kMaxHosts) bad(spec, fmt::format("more than {} hosts", kMaxHosts));
        }
    }
    return hosts;
}

}  // namespace storkit
