// Which nodes are to be installed and which are installed, <pxe state>/installs.json:
//
//   {"nodes": {"node1": {"state": "install", "reason": "new", "token": "9f0c...",
//                        "mac": "52:54:00:00:00:01", "ip": "198.18.0.100", "since": 1.8e9,
//                        "installed_at": null, "boot_files": ["/srv/tftp/pxelinux.cfg/01-..."]}}}
//
// A node is "install" from the first prepare that knows its MAC (reason "new") or from
// `pxe-provision reinstall` (reason "reinstall"): prepare serves it an installer, with a fresh
// random token in its kickstart. When the node reports "finished" with that token, from its own
// address, pxe-report hands it off to its local disk at once: its loader configs (boot_files)
// are rewritten to boot the local disk and it becomes "installed"; prepare then renders it the
// same way and serves it no kickstart, so a reboot never reinstalls it.
//
// pxe-provision writes the book (prepare, reinstall), pxe-report too (the hand-off); both hold
// the state's report.lock (PxeState::lock) while they read and rewrite it.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace storkit {

// The book holds tokens: root and the CGI's group only (state_access.h).
inline constexpr int kInstallBookMode = 0660;

enum class InstallState { kInstall, kInstalled };

struct InstallRecord {
    InstallState state = InstallState::kInstall;
    std::string reason;  // "new" or "reinstall"
    std::string token;   // 32 hex digits, new for every install
    std::string mac, ip;
    double since = 0;                     // when it was marked for this install
    double installed_at = 0;              // when it reported finished (state installed)
    std::vector<std::string> boot_files;  // its per-node loader configs, as prepare wrote them

    bool installed() const { return state == InstallState::kInstalled; }
};

class InstallBook {
  public:
    std::map<std::string, InstallRecord> nodes;

    // The book at `path`; empty when there is none. Throws Error naming the file (and node) on
    // content that is not an install book.
    static InstallBook read(const std::string& path);
    // Replaces the book atomically with `mode`, group `gid` (-1: the directory's), so that the
    // CGI can read the tokens and nobody else can.
    void write(const std::string& path, int mode, long gid) const;

    const InstallRecord* find(const std::string& name) const;
    // The node's record, marked for a new install (fresh token) with `mac` and `ip`.
    InstallRecord& mark(const std::string& name, const std::string& reason, const std::string& mac,
                        const std::string& ip, double now);
};

// <pxe state>/installs.json
std::string install_book_path(const std::string& pxe_state_dir);

// 128 random bits from the kernel as 32 lower-case hex digits.
std::string new_install_token();

// Whether `given` equals `expected`, in time that does not depend on where they differ.
bool token_matches(std::string_view given, std::string_view expected);

// What a node's loader config says once it is installed: boot the local disk. `path` says the
// loader by its name (pxelinux.cfg/..., grub.cfg-..., .ipxe); `node` goes in a comment.
std::string local_boot_config(const std::string& path, const std::string& node);

// The hand-off: rewrites each of `files` in place (they stay where the TFTP and HTTP servers
// read them, whoever owns their directory) with local_boot_config. Returns the files it could
// not rewrite, each with the reason.
std::vector<std::string> hand_off_to_local_disk(const std::vector<std::string>& files,
                                                const std::string& node);

}  // namespace storkit
