// Scratch directories, ISO images (built with xorriso, as an operator would) and pxe.json files
// for the unit tests of the provisioning modules.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/exec.h"
#include "pxe/config.h"

namespace storkit::test {

struct ScratchDir {
    std::string path;
    ScratchDir() {
        char tmpl[] = "/tmp/storkit-unit.XXXXXX";
        path = ::mkdtemp(tmpl);
        ::chmod(path.c_str(), 0755);
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
};

inline void write_text(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// Builds <iso> from the directory `tree` with Rock Ridge, as the repository's images are.
inline void make_iso(const std::string& tree, const std::string& iso) {
    ExecRequest req;
    req.argv = {"/usr/bin/xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-o", iso, tree};
    req.timeout = std::chrono::seconds(60);
    ExecResult r = run_command(req);
    if (!r.ok()) throw std::runtime_error("xorriso: " + r.describe() + ": " + r.err);
}

// A scratch directory with an ISO repository (rocky-9.iso: a RHEL-like tree, built only with
// `real_iso`: loading a config just needs the file), an install template and a valid
// pxe.json; tests change `config` and call load().
struct PxeFixture {
    ScratchDir dir;
    std::string tree = dir.path + "/tree";
    std::string repo = dir.path + "/repo";
    std::string out = dir.path + "/out";
    nlohmann::json config;

    explicit PxeFixture(bool real_iso = false) {
        write_text(tree + "/images/pxeboot/vmlinuz", std::string(5000, 'k'));
        write_text(tree + "/images/pxeboot/initrd.img", std::string(9000, 'i'));
        write_text(tree + "/BaseOS/Packages/a.rpm", "rpm");
        std::filesystem::create_directories(repo);
        if (real_iso)
            make_iso(tree, repo + "/rocky-9.iso");
        else
            write_text(repo + "/rocky-9.iso", "");
        write_text(dir.path + "/ks.in", "host {{name}} ip {{ip}}/{{prefix}} tz {{tz}}\n");
        config = {
            {"bmc",
             {{"subnet", "198.18.64.0/24"},
              {"user", "admin"},
              {"password_file", dir.path + "/bmc.pw"}}},
            {"data",
             {{"subnet", "198.18.0.0/24"},
              {"pool", "198.18.0.100-198.18.0.199"},
              {"gateway", "198.18.0.1"}}},
            {"server",
             {{"interface", "eth1"}, {"address", "198.18.0.2"}, {"hook", dir.path + "/hook"}}},
            {"iso", {{"repository", repo}, {"version", "rocky-9"}}},
            {"paths",
             {{"tftp_root", out + "/tftp"},
              {"http_root", out + "/www"},
              {"dnsmasq_conf", out + "/dnsmasq.conf"},
              {"lighttpd_conf", out + "/lighttpd.conf"},
              {"state_dir", out + "/state"}}},
            {"install", {{"template", dir.path + "/ks.in"}, {"vars", {{"tz", "UTC"}}}}},
            {"nodes",
             {{"n1", {{"bmc", "198.18.64.11"}, {"mac", "52:54:00:00:00:01"}}},
              {"n2",
               {{"bmc", "198.18.64.12"}, {"mac", "52:54:00:00:00:02"}, {"ip", "198.18.0.50"}}}}}};
    }

    std::string config_path() const { return dir.path + "/pxe.json"; }
    void write() const { write_text(config_path(), config.dump(2)); }
    PxeConfig load() const {
        write();
        return load_pxe_config(config_path());
    }
};

}  // namespace storkit::test
