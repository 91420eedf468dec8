#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "pxe/config_parts.h"

namespace storkit::pxe_config {

Ipv4 address(const ConfigNode& n, const std::string& key) {
    std::string text = n.string(key);
    std::optional<Ipv4> a = parse_ipv4(text);
    if (!a) n.problem(key, fmt::format("\"{}\" is not an IPv4 address", text));
    return a.value_or(0);
}

Subnet subnet(const ConfigNode& n, const std::string& key) {
    std::string text = n.string(key), why;
    std::optional<Subnet> s = parse_subnet(text, &why);
    if (!s) n.problem(key, fmt::format("\"{}\": {}", text, why));
    return s.value_or(Subnet{});
}

std::string abs_path(const ConfigNode& n, const std::string& key, const std::string& fallback) {
    std::string p = n.string_or(key, fallback);
    if (p[0] != '/') {
        n.problem(key, fmt::format("expected an absolute path, got \"{}\"", p));
        return p;
    }
    // The path goes into generated dnsmasq and lighttpd configs.
    for (char ch : p)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == '"' || ch == '\\' || ch == ',') {
            n.problem(key, "a path here must not hold control characters, quotes, \\ or commas");
            return p;
        }
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

std::string image_path(const ConfigNode& n, const std::string& key) {
    std::string p = n.string(key);
    bool ok = p[0] != '/';
    for (const auto& part : std::filesystem::path(p)) ok = ok && part != ".." && part != ".";
    if (!ok)
        n.problem(key, fmt::format("expected a relative path inside the image, got \"{}\"", p));
    return p;
}

bool inside(const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           (dir == "/" || path[dir.size()] == '/'));
}

void require_host(const ConfigNode& n, const std::string& key, Ipv4 addr, const Subnet& s,
                  const std::string& subnet_key) {
    if (!s.contains(addr))
        n.problem(key, fmt::format("{} is outside {} {}", ipv4_string(addr), subnet_key, s.str()));
    else if (s.is_reserved(addr))
        n.problem(key, fmt::format("{} is the network or broadcast address of {}",
                                   ipv4_string(addr), s.str()));
}

}  // namespace storkit::pxe_config
