#include "pxe/state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/config_file.h"
#include "core/error.h"
#include "core/fd.h"
#include "core/log.h"
#include "core/trust.h"
#include "pxe/boot_plan.h"
#include "pxe/config_parts.h"
#include "pxe/node_table.h"

namespace storkit {

namespace {

using nlohmann::json;

// Written by root (dnsmasq's hook, pxe-provision) and by the CGI's user through the state
// directory's group (state_access.h).
constexpr int kGroupFileMode = 0660;

// The start of the log's first line (what tells one log from the next), and its inode; an empty
// head and inode 0 when there is no log.
struct LogIdentity {
    std::string head;
    uint64_t inode = 0, size = 0;
};
LogIdentity log_identity(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) < 0) return {};
    char buf[256];
    ssize_t n = ::pread(fd.get(), buf, sizeof buf, 0);
    std::string head(buf, n > 0 ? static_cast<size_t>(n) : 0);
    size_t eol = head.find('\n');
    head.resize(eol == std::string::npos ? head.size() : eol);
    return {head, static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size)};
}

}  // namespace

std::string resolve_pxe_state_dir(const std::string& option, const std::string& config_path) {
    if (!option.empty()) return option;
    const char* env = std::getenv(kPxeStateEnv);
    if (env && *env) return env;
    std::error_code ec;
    if (!config_path.empty() && std::filesystem::exists(config_path, ec)) {
        ConfigFile file = ConfigFile::load(config_path);
        // Run as root by dnsmasq: whoever could change the file would choose where root writes.
        require_root_only_writable(config_path, "config");
        // The top level and "paths" are checked as pxe-provision checks them, so a key misspelt
        // or of the wrong type is an error here too, not a silent default. (Not the whole file:
        // that would link the hook, run per lease, with the BMC and image code.)
        ConfigErrors errors;
        ConfigNode root = file.root(errors);
        root.allow_only(pxe_config::kRootKeys);
        ConfigNode paths = root.section("paths");
        paths.allow_only(pxe_config::kPathsKeys);
        std::string dir = pxe_config::abs_path(paths, "state_dir", "/var/lib/storkit");
        errors.checkpoint();
        return dir + "/pxe";
    }
    return kDefaultPxeStateDir;
}

FileLock PxeState::lock(std::chrono::milliseconds wait) const {
    make_dirs(dir_);
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        try {
            return FileLock::try_acquire(path("report.lock"));
        } catch (const LockedError&) {
            if (std::chrono::steady_clock::now() >= deadline) throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void PxeState::append(const PxeEvent& e) const {
    append_synced(path("events.jsonl"), e.to_json().dump() + "\n", kGroupFileMode);
}

DhcpLeaseTable PxeState::leases() const {
    DhcpLeaseTable table;
    std::string leases_file = path("leases.json");
    if (std::optional<std::string> text = read_file(leases_file)) {
        json j = json::parse(*text, nullptr, false);
        if (j.is_discarded()) throw Error(fmt::format("{}: not JSON", leases_file));
        table = DhcpLeaseTable::from_json(j, leases_file);
    }
    // Catch up with the log: normally just the event this run appended; after a run that died
    // between appending and saving, that one's too. A missing leases.json replays everything.
    std::string log_file = path("events.jsonl");
    // A log rotated (a new file) or truncated (by hand, or logrotate's copytruncate) is read
    // from its start: its events are all new.
    auto [head, inode, size] = log_identity(log_file);
    if (table.log_inode != 0 &&
        (inode != table.log_inode || head != table.log_head || size < table.applied_bytes)) {
        if (table.applied_bytes > 0)
            log::info("{}: a new log (rotated or truncated); reading it from its start", log_file);
        table.applied_bytes = 0;
    }
    table.log_inode = inode;
    table.log_head = head;
    std::string tail = read_file(log_file, table.applied_bytes).value_or("");
    size_t pos = 0;
    while (pos < tail.size()) {
        size_t eol = tail.find('\n', pos);
        if (eol == std::string::npos) break;  // a line still being written: next time
        std::string where = fmt::format("{} at byte {}", log_file, table.applied_bytes + pos);
        json j = json::parse(tail.substr(pos, eol - pos), nullptr, false);
        try {
            table.apply(PxeEvent::from_json(j, where));
        } catch (const Error& e) {
            log::warn("{}; skipped", e.what());
        }
        pos = eol + 1;
    }
    table.applied_bytes += pos;
    return table;
}

std::vector<NodeEntry> PxeState::nodes() const {
    return read_node_table(node_table_path(dir_));
}

void PxeState::save(const DhcpLeaseTable& leases, double now) const {
    write_file_atomic(path("leases.json"), leases.to_json().dump(1) + "\n", kGroupFileMode);
    std::vector<NodeEntry> nodes;
    try {
        nodes = this->nodes();
    } catch (const Error& e) {
        // The leases are saved; a broken node table must not lose events, only the join.
        log::warn("{}; table.json lists every lease as unbound", e.what());
    }
    json table = joined_table(nodes, leases, now);
    try {
        add_boot_columns(table, read_boot_state(path("boot.json")));
    } catch (const Error& e) {
        log::warn("{}; table.json has no power-on times", e.what());
    }
    write_file_atomic(path("table.json"), table.dump(1) + "\n", kGroupFileMode);
}

bool record_event(const PxeState& state, const PxeEvent& e) {
    FileLock lock = state.lock();
    state.append(e);
    DhcpLeaseTable leases = state.leases();
    // The event was applied while catching up with the log; find out whether it found a MAC.
    bool tied = !e.mac.empty() || leases.mac_of_ip(e.ip).has_value();
    state.save(leases, e.time);
    return tied;
}

}  // namespace storkit
