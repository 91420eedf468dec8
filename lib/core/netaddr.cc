#include "core/netaddr.h"

#include <fmt/format.h>

#include <cctype>

namespace storkit {

namespace {

// A decimal number without sign or leading zeros, at most `max`.
std::optional<uint32_t> parse_decimal(std::string_view s, uint32_t max) {
    if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > max) return std::nullopt;
    return static_cast<uint32_t>(v);
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

std::optional<Ipv4> parse_ipv4(std::string_view text) {
    Ipv4 addr = 0;
    for (int i = 0; i < 4; ++i) {
        size_t dot = text.find('.');
        if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
        std::optional<uint32_t> octet = parse_decimal(text.substr(0, dot), 255);
        if (!octet) return std::nullopt;
        addr = addr << 8 | *octet;
        text = i < 3 ? text.substr(dot + 1) : std::string_view();
    }
    return addr;
}

std::string ipv4_string(Ipv4 a) {
    return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

bool Subnet::overlaps(const Subnet& o) const {
    int p = std::min(prefix, o.prefix);
    Ipv4 m = p == 0 ? 0 : ~Ipv4{0} << (32 - p);
    return (network & m) == (o.network & m);
}

bool Subnet::is_reserved(Ipv4 addr) const {
    return prefix < 31 && (addr == network || addr == broadcast());
}

std::string Subnet::str() const {
    return fmt::format("{}/{}", ipv4_string(network), prefix);
}

std::optional<Subnet> parse_subnet(std::string_view text, std::string* why) {
    auto fail = [&](std::string msg) -> std::optional<Subnet> {
        if (why) *why = std::move(msg);
        return std::nullopt;
    };
    size_t slash = text.find('/');
    if (slash == std::string_view::npos) return fail("expected ADDRESS/PREFIX, e.g. 198.18.0.0/24");
    std::optional<Ipv4> addr = parse_ipv4(text.substr(0, slash));
    std::optional<uint32_t> prefix = parse_decimal(text.substr(slash + 1), 32);
    if (!addr || !prefix) return fail("expected ADDRESS/PREFIX, e.g. 198.18.0.0/24");
    Subnet s{*addr, static_cast<int>(*prefix)};
    if ((*addr & s.mask()) != *addr) {
        Subnet fixed{*addr & s.mask(), s.prefix};
        return fail(fmt::format("host bits are set (did you mean {}?)", fixed.str()));
    }
    return s;
}

std::string AddressRange::str() const {
    return fmt::format("{}-{}", ipv4_string(first), ipv4_string(last));
}

std::optional<AddressRange> parse_range(std::string_view text, std::string* why) {
    auto fail = [&](std::string msg) -> std::optional<AddressRange> {
        if (why) *why = std::move(msg);
        return std::nullopt;
    };
    size_t dash = text.find('-');
    std::optional<Ipv4> a, b;
    if (dash != std::string_view::npos) {
        a = parse_ipv4(text.substr(0, dash));
        b = parse_ipv4(text.substr(dash + 1));
    }
    if (!a || !b) return fail("expected FIRST-LAST, e.g. 198.18.0.100-198.18.0.199");
    if (*a > *b) return fail("the first address is above the last");
    return AddressRange{*a, *b};
}

std::optional<std::string> normalize_mac(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    std::string out;
    out.reserve(17);
    char sep = text[2];
    if (sep != ':' && sep != '-') return std::nullopt;
    for (size_t i = 0; i < 17; ++i) {
        if (i % 3 == 2) {
            if (text[i] != sep) return std::nullopt;
            out += ':';
        } else {
            if (hex_digit(text[i]) < 0) return std::nullopt;
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
        }
    }
    return out;
}

std::string mac_hyphens(std::string_view mac) {
    std::string out(mac);
    for (char& c : out)
        if (c == ':') c = '-';
    return out;
}

}  // namespace storkit
