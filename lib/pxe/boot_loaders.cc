#include "pxe/boot_loaders.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/exec.h"
#include "core/log.h"
#include "core/statefile.h"

namespace storkit {

namespace {

constexpr const char* kGrubPlatformDir = "/usr/lib/grub/x86_64-efi";

}  // namespace

LoaderPlan loader_plan(Firmware firmware, Loader loader, const std::string& sysroot) {
    LoaderPlan p;
    bool bios = firmware != Firmware::kUefi, uefi = firmware != Firmware::kBios;
    if (loader == Loader::kIpxe) {
        if (bios) {
            p.files.push_back({sysroot + "/usr/lib/ipxe/undionly.kpxe", "undionly.kpxe", "ipxe"});
            p.bios_boot = "undionly.kpxe";
        }
        if (uefi) {
            // snponly.efi drives the NIC through the firmware's own driver: works on any NIC
            // the firmware can boot from.
            p.files.push_back({sysroot + "/usr/lib/ipxe/snponly.efi", "snponly.efi", "ipxe"});
            p.uefi_boot = "snponly.efi";
        }
        return p;
    }
    if (bios) {
        p.files.push_back({sysroot + "/usr/lib/PXELINUX/pxelinux.0", "pxelinux.0", "pxelinux"});
        p.files.push_back({sysroot + "/usr/lib/syslinux/modules/bios/ldlinux.c32", "ldlinux.c32",
                           "syslinux-common"});
        p.bios_boot = "pxelinux.0";
    }
    if (uefi) {
        p.grub = true;
        p.uefi_boot = "boot/grub/x86_64-efi/core.efi";
    }
    return p;
}

void check_loaders(const LoaderPlan& plan, const std::string& sysroot) {
    std::vector<LoaderFile> need = plan.files;
    if (plan.grub) {
        need.push_back(
            {sysroot + std::string(kGrubPlatformDir) + "/kernel.img", "", "grub-efi-amd64-bin"});
        need.push_back({sysroot + "/usr/bin/grub-mknetdir", "", "grub-common"});
    }
    std::vector<std::string> missing;
    std::set<std::string> packages;
    for (const LoaderFile& f : need) {
        if (::access(f.source.c_str(), R_OK) == 0) continue;
        missing.push_back(fmt::format("{} (Debian package {})", f.source, f.package));
        packages.insert(f.package);
    }
    if (missing.empty()) return;
    throw Error(fmt::format("boot loader files missing: {}; install them with: apt-get install {}",
                            fmt::join(missing, ", "), fmt::join(packages, " ")));
}

std::vector<std::string> list_files(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && !it->is_symlink(ec))
            out.push_back(std::filesystem::relative(it->path(), dir, ec).string());
    }
    if (ec) throw Error(fmt::format("{}: cannot list: {}", dir, ec.message()));
    std::sort(out.begin(), out.end());
    return out;
}

std::string grub_netdir(const std::string& cache_dir, bool dry_run, const std::string& sysroot) {
    std::string platform = sysroot + kGrubPlatformDir;
    struct stat st {};
    if (::stat((platform + "/kernel.img").c_str(), &st) < 0)
        throw Error(fmt::format("{}/kernel.img: {} (Debian package grub-efi-amd64-bin)", platform,
                                errno_text(errno)));
    // A new GRUB build (package upgrade) replaces kernel.img: a new directory.
    std::string dir =
        fmt::format("{}/grub-x86_64-efi-{}-{}", cache_dir, st.st_size, st.st_mtim.tv_sec);
    if (::stat(dir.c_str(), &st) == 0) return dir;
    if (dry_run) return "";
    make_dirs(cache_dir);
    remove_dead_temps(cache_dir, dir.substr(cache_dir.size() + 1));
    std::string tmp = temp_path_for(dir) + ".XXXXXX";
    if (!::mkdtemp(tmp.data()))
        throw Error(
            fmt::format("{}: cannot create its temporary directory: {}", dir, errno_text(errno)));
    ExecRequest req;
    req.argv = {sysroot + "/usr/bin/grub-mknetdir", "--net-directory=" + tmp, "--subdir=boot/grub",
                "-d", platform};
    req.timeout = std::chrono::seconds(60);
    log::info("building the GRUB netboot directory: grub-mknetdir");
    ExecResult r = run_command(req);
    if (!r.ok()) {
        std::filesystem::remove_all(tmp);
        std::string err = r.err;
        while (!err.empty() && err.back() == '\n') err.pop_back();
        throw Error(fmt::format("grub-mknetdir: {}: {}", r.describe(), err));
    }
    ::chmod(tmp.c_str(), 0755);
    if (::rename(tmp.c_str(), dir.c_str()) < 0) {
        std::filesystem::remove_all(tmp);
        throw Error(fmt::format("{}: cannot rename into place: {}", dir, errno_text(errno)));
    }
    return dir;
}

}  // namespace storkit
