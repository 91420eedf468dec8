#include "mgmtvm/ceph_auth.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace storkit::ceph {

using nlohmann::json;

namespace {

json ask(Client& c, const json& cmd, const std::string& what) {
    MonReply r = c.mon_command(cmd.dump());
    if (r.rc < 0)
        throw Error(fmt::format("ceph: {}: {}{}", what, errno_text(r.rc),
                                r.status.empty() ? "" : ": " + r.status));
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(fmt::format("ceph: {}: the monitors' answer is not a JSON object", what));
    return j;
}

// "127.0.0.1:6789" or "[::1]:6789" -> host, port.
std::optional<MonitorAddr> split_addr(const std::string& addr) {
    size_t colon = addr.rfind(':');
    if (colon == std::string::npos || colon + 1 == addr.size()) return std::nullopt;
    MonitorAddr m;
    m.host = addr.substr(0, colon);
    if (m.host.size() > 2 && m.host.front() == '[' && m.host.back() == ']')
        m.host = m.host.substr(1, m.host.size() - 2);
    try {
        m.port = std::stoi(addr.substr(colon + 1));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (m.host.empty() || m.port <= 0 || m.port > 65535) return std::nullopt;
    return m;
}

}  // namespace

std::vector<MonitorAddr> monitor_addrs(Client& c) {
    json dump = ask(c, {{"prefix", "mon dump"}, {"format", "json"}}, "mon dump");
    std::vector<MonitorAddr> out;
    for (const json& mon : dump.value("mons", json::array())) {
        std::string v1, v2;
        for (const json& a :
             mon.value("public_addrs", json::object()).value("addrvec", json::array())) {
            std::string type = a.value("type", ""), addr = a.value("addr", "");
            if (type == "v1") v1 = addr;
            if (type == "v2") v2 = addr;
        }
        std::optional<MonitorAddr> m = split_addr(v1.empty() ? v2 : v1);
        if (!m)
            throw Error(fmt::format("ceph: mon dump: monitor {} has no address that can be read",
                                    mon.value("name", "?")));
        out.push_back(*m);
    }
    if (out.empty()) throw Error("ceph: mon dump: the monmap lists no monitor");
    return out;
}

std::string auth_key(Client& c, const std::string& entity) {
    std::string what = "the key of " + entity;
    json j = ask(c, {{"prefix", "auth get-key"}, {"entity", entity}, {"format", "json"}}, what);
    std::optional<std::string> key = base64_decode(j.value("key", ""));
    if (!key || key->empty())
        throw Error(fmt::format("ceph: {}: the monitors' answer holds no base64 key", what));
    return *key;
}

std::optional<std::string> base64_decode(const std::string& text) {
    auto value = [](char ch) -> int {
        if (ch >= 'A' && ch <= 'Z') return ch - 'A';
        if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9') return ch - '0' + 52;
        if (ch == '+') return 62;
        if (ch == '/') return 63;
        return -1;
    };
    std::string body = text;
    while (!body.empty() && body.back() == '=') body.pop_back();
    if (text.size() - body.size() > 2 || body.size() % 4 == 1) return std::nullopt;
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char ch : body) {
        int v = value(ch);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

}  // namespace storkit::ceph
