#include "pxe/install_book.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"
#include "core/fd.h"
#include "core/statefile.h"
#include "pxe/json_fields.h"

namespace storkit {

namespace {

using nlohmann::json;

const char* state_name(InstallState s) {
    return s == InstallState::kInstalled ? "installed" : "install";
}

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

}  // namespace

std::string install_book_path(const std::string& pxe_state_dir) {
    return pxe_state_dir + "/installs.json";
}

InstallBook InstallBook::read(const std::string& path) {
    InstallBook book;
    std::optional<std::string> text = read_file(path);
    if (!text) return book;
    json j = json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_object())
        throw Error(fmt::format("{}: not an install book", path));
    for (auto it = j["nodes"].begin(); it != j["nodes"].end(); ++it) {
        const json& v = it.value();
        std::string state = json_string(v, "state");
        if (state != "install" && state != "installed")
            throw Error(fmt::format("{}: node {}: unknown state \"{}\"", path, it.key(), state));
        InstallRecord r;
        r.state = state == "installed" ? InstallState::kInstalled : InstallState::kInstall;
        r.reason = json_string(v, "reason");
        r.token = json_string(v, "token");
        r.mac = json_string(v, "mac");
        r.ip = json_string(v, "ip");
        r.since = json_number(v, "since");
        r.installed_at = json_number(v, "installed_at");
        if (v.contains("boot_files") && v["boot_files"].is_array())
            for (const json& f : v["boot_files"])
                if (f.is_string()) r.boot_files.push_back(f.get<std::string>());
        book.nodes[it.key()] = std::move(r);
    }
    return book;
}

void InstallBook::write(const std::string& path, int mode, long gid) const {
    json nodes_json = json::object();
    for (const auto& [name, r] : nodes)
        nodes_json[name] = {{"state", state_name(r.state)},
                            {"reason", r.reason},
                            {"token", r.token},
                            {"mac", r.mac},
                            {"ip", r.ip},
                            {"since", r.since},
                            {"installed_at", r.installed_at > 0 ? json(r.installed_at) : json()},
                            {"boot_files", r.boot_files}};
    write_file_atomic(path, json{{"nodes", nodes_json}}.dump(1) + "\n", mode);
    if (gid >= 0 && ::chown(path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid)) < 0)
        throw Error(fmt::format("{}: chown: {}", path, errno_text(errno)));
}

const InstallRecord* InstallBook::find(const std::string& name) const {
    auto it = nodes.find(name);
    return it == nodes.end() ? nullptr : &it->second;
}

InstallRecord& InstallBook::mark(const std::string& name, const std::string& reason,
                                 const std::string& mac, const std::string& ip, double now) {
    InstallRecord& r = nodes[name];
    r.state = InstallState::kInstall;
    r.reason = reason;
    r.token = new_install_token();
    r.mac = mac;
    r.ip = ip;
    r.since = now;
    r.installed_at = 0;
    return r;
}

std::string new_install_token() {
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("getrandom: {}", errno_text(errno)));
        got += static_cast<size_t>(n);
    }
    std::string hex;
    for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
    return hex;
}

bool token_matches(std::string_view given, std::string_view expected) {
    if (expected.empty() || given.size() != expected.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
    return diff == 0;
}

std::string local_boot_config(const std::string& path, const std::string& node) {
    if (ends_with(path, ".ipxe"))
        return fmt::format("#!ipxe\n# {}: installed; back to the firmware (local disk).\nexit 1\n",
                           node);
    if (path.find("/pxelinux.cfg/") != std::string::npos)
        return fmt::format(
            "# {}: installed; boot from the local disk.\nDEFAULT local\nPROMPT 0\nTIMEOUT 0\n"
            "LABEL local\n  LOCALBOOT 0\n",
            node);
    return fmt::format("# {}: installed; back to the firmware (local disk).\nexit\n", node);
}

std::vector<std::string> hand_off_to_local_disk(const std::vector<std::string>& files,
                                                const std::string& node) {
    std::vector<std::string> failed;
    for (const std::string& path : files) {
        std::string content = local_boot_config(path, node);
        // In place: the CGI may write the file (its group) but not its directory.
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
        struct stat st {};
        std::string why;
        if (!fd)
            why = errno_text(errno);
        else if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode))
            why = "not a regular file";
        else if (::pwrite(fd.get(), content.data(), content.size(), 0) !=
                     static_cast<ssize_t>(content.size()) ||
                 ::ftruncate(fd.get(), static_cast<off_t>(content.size())) < 0 ||
                 ::fsync(fd.get()) < 0)
            why = errno_text(errno);
        if (!why.empty()) failed.push_back(fmt::format("{}: {}", path, why));
    }
    return failed;
}

}  // namespace storkit
