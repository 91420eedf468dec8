#include "bmc/discover.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>

#include "bmc/fiid_obj.h"
#include "core/error.h"
#include "core/fd.h"
#include "core/log.h"

namespace storkit {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr uint8_t kRqSeq = 0x17;

class Socket {
  public:
    Socket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
        if (!fd_) throw Error(fmt::format("discover: socket: {}", errno_text(errno)));
        // The largest search (a /kMinSearchPrefix) answering at once must not overflow it.
        int size = 1 << 20;
        ::setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    int fd() const { return fd_.get(); }

  private:
    UniqueFd fd_;
};

FiidObj obj(fiid_template_t tmpl) {
    FiidObj o(fiid_obj_create(tmpl));
    if (!o) throw Error("discover: out of memory");
    return o;
}

// The session-less request: RMCP header, IPMI 1.5 session header with no authentication,
// message header, and the command asking also for the IPMI 2.0 capabilities.
std::vector<uint8_t> make_request() {
    FiidObj rmcp = obj(tmpl_rmcp_hdr), session = obj(tmpl_lan_session_hdr),
            msg = obj(tmpl_lan_msg_hdr_rq),
            cmd = obj(tmpl_cmd_get_channel_authentication_capabilities_rq);
    std::vector<uint8_t> pkt(256);
    if (fill_rmcp_hdr_ipmi(rmcp.get()) < 0 ||
        fill_lan_session_hdr(IPMI_AUTHENTICATION_TYPE_NONE, 0, 0, session.get()) < 0 ||
        fill_lan_msg_hdr(IPMI_SLAVE_ADDRESS_BMC, IPMI_NET_FN_APP_RQ, IPMI_BMC_IPMB_LUN_BMC, kRqSeq,
                         msg.get()) < 0 ||
        fill_cmd_get_channel_authentication_capabilities(
            IPMI_CHANNEL_NUMBER_CURRENT_CHANNEL, IPMI_PRIVILEGE_LEVEL_ADMIN,
            IPMI_GET_IPMI_V20_EXTENDED_DATA, cmd.get()) < 0)
        throw Error("discover: cannot build the request");
    int n = assemble_ipmi_lan_pkt(rmcp.get(), session.get(), msg.get(), cmd.get(), nullptr, 0,
                                  pkt.data(), static_cast<unsigned>(pkt.size()),
                                  IPMI_INTERFACE_FLAGS_DEFAULT);
    if (n <= 0) throw Error("discover: cannot assemble the request");
    pkt.resize(static_cast<size_t>(n));
    return pkt;
}

// Whether `pkt` is an answer to our request; sets `ipmi_v20` from it.
bool parse_reply(const uint8_t* pkt, size_t len, bool& ipmi_v20) {
    FiidObj rmcp = obj(tmpl_rmcp_hdr), session = obj(tmpl_lan_session_hdr),
            msg = obj(tmpl_lan_msg_hdr_rs),
            cmd = obj(tmpl_cmd_get_channel_authentication_capabilities_rs),
            trailer = obj(tmpl_lan_msg_trlr);
    if (ipmi_lan_check_packet_checksum(pkt, static_cast<unsigned>(len)) != 1) return false;
    if (unassemble_ipmi_lan_pkt(pkt, static_cast<unsigned>(len), rmcp.get(), session.get(),
                                msg.get(), cmd.get(), trailer.get(),
                                IPMI_INTERFACE_FLAGS_DEFAULT) < 0)
        return false;
    uint64_t net_fn = 0, command = 0, v20 = 0;
    if (FIID_OBJ_GET(msg.get(), "net_fn", &net_fn) < 0 || net_fn != IPMI_NET_FN_APP_RS)
        return false;
    if (FIID_OBJ_GET(cmd.get(), "cmd", &command) < 0 ||
        command != IPMI_CMD_GET_CHANNEL_AUTHENTICATION_CAPABILITIES)
        return false;
    // A BMC that refuses the IPMI 2.0 bit with an error completion code is still a BMC.
    ipmi_v20 =
        FIID_OBJ_GET(cmd.get(), "channel_supports_ipmi_v2.0_connections", &v20) >= 0 && v20 != 0;
    return true;
}

struct Target {
    uint32_t address;
    int sent = 0;
    steady_clock::time_point next_send;
};

}  // namespace

std::string FoundBmc::host() const {
    return fmt::format("{}:{}", ipv4_string(address), port);
}

nlohmann::json FoundBmc::to_json() const {
    return {{"name", name},
            {"host", host()},
            {"address", ipv4_string(address)},
            {"ipmi_v20", ipmi_v20}};
}

Subnet parse_search_subnet(const std::string& cidr) {
    std::string why;
    std::optional<Subnet> s = parse_subnet(cidr, &why);
    if (!s) throw ConfigError(fmt::format("subnet '{}': {}", cidr, why));
    if (s->prefix < kMinSearchPrefix)
        throw ConfigError(fmt::format("subnet '{}': /{} is larger than the largest allowed, /{}",
                                      cidr, s->prefix, kMinSearchPrefix));
    return *s;
}

std::vector<Ipv4> subnet_hosts(const Subnet& subnet) {
    std::vector<Ipv4> out;
    for (uint64_t a = subnet.network; a <= subnet.broadcast(); ++a)
        if (!subnet.is_reserved(static_cast<Ipv4>(a))) out.push_back(static_cast<Ipv4>(a));
    return out;
}

std::string bmc_name(const Subnet& subnet, Ipv4 address, const std::string& prefix) {
    uint64_t largest = (uint64_t{1} << (32 - subnet.prefix)) - 1;
    size_t width = std::to_string(largest).size();
    return fmt::format("{}{:0{}}", prefix, address - subnet.network, width);
}

std::vector<FoundBmc> discover_bmcs(const Subnet& subnet, const DiscoverOptions& options) {
    std::vector<uint8_t> request = make_request();
    Socket sock;
    auto start = steady_clock::now();
    std::map<uint32_t, Target> pending;
    for (Ipv4 a : subnet_hosts(subnet)) pending.emplace(a, Target{a, 0, start});
    std::map<uint32_t, FoundBmc> found;
    auto deadline = start + options.timeout;
    int sends = std::max(options.sends, 1);
    milliseconds resend = options.timeout / (sends + 1);

    while (!pending.empty() && steady_clock::now() < deadline) {
        // Send to every address that is due; stop early when the socket is full.
        bool blocked = false;
        auto now = steady_clock::now();
        for (auto& [addr, t] : pending) {
            if (t.sent >= sends || t.next_send > now) continue;
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(static_cast<uint16_t>(options.port));
            to.sin_addr.s_addr = htonl(addr);
            if (::sendto(sock.fd(), request.data(), request.size(), 0,
                         reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
                    blocked = true;
                    break;
                }
                // An unreachable address is not an error for a search: try it again later.
                log::debug("discover: {}: {}", ipv4_string(addr), errno_text(errno));
            }
            ++t.sent;
            t.next_send = now + resend;
        }
        // Wait for answers until the next send is due (or the socket can take more).
        auto next = deadline;
        for (auto& [addr, t] : pending)
            if (t.sent < sends) next = std::min(next, t.next_send);
        auto wait = std::chrono::duration_cast<milliseconds>(next - steady_clock::now());
        pollfd pfd{sock.fd(), static_cast<short>(POLLIN | (blocked ? POLLOUT : 0)), 0};
        int ready = ::poll(&pfd, 1, static_cast<int>(std::clamp<long>(wait.count(), 0, 1000)));
        if (ready < 0 && errno != EINTR)
            throw Error(fmt::format("discover: poll: {}", errno_text(errno)));
        if (ready <= 0 || !(pfd.revents & POLLIN)) continue;
        for (;;) {
            uint8_t buf[512];
            sockaddr_in from{};
            socklen_t from_len = sizeof from;
            ssize_t n = ::recvfrom(sock.fd(), buf, sizeof buf, 0,
                                   reinterpret_cast<sockaddr*>(&from), &from_len);
            if (n < 0) break;  // drained (EAGAIN) or an ICMP error queued on the socket
            uint32_t addr = ntohl(from.sin_addr.s_addr);
            bool v20 = false;
            if (ntohs(from.sin_port) != options.port || !pending.count(addr) ||
                !parse_reply(buf, static_cast<size_t>(n), v20))
                continue;
            FoundBmc bmc{addr, options.port, bmc_name(subnet, addr, options.name_prefix), v20};
            found.emplace(addr, bmc);
            pending.erase(addr);
        }
    }
    std::vector<FoundBmc> out;
    out.reserve(found.size());
    for (auto& [addr, bmc] : found) out.push_back(bmc);
    return out;
}

}  // namespace storkit
