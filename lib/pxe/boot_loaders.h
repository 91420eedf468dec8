// The first-stage boot loaders a node fetches over TFTP, taken from the machine's Debian
// packages: iPXE (undionly.kpxe, snponly.efi), pxelinux (pxelinux.0 + ldlinux.c32) and GRUB
// (a netboot directory built by grub-mknetdir).
#pragma once

#include <string>
#include <vector>

#include "pxe/config.h"

namespace storkit {

struct LoaderFile {
    std::string source;   // absolute path on this machine
    std::string dest;     // relative to the TFTP root
    std::string package;  // the Debian package that provides `source`
};

struct LoaderPlan {
    std::vector<LoaderFile> files;
    bool grub = false;      // a GRUB netboot directory is needed (native loader, UEFI)
    std::string bios_boot;  // DHCP boot file name for BIOS clients ("" when not offered)
    std::string uefi_boot;  // ... for x86-64 UEFI clients
};

// What `firmware` and `loader` need. `sysroot` prefixes every source path (tests).
LoaderPlan loader_plan(Firmware firmware, Loader loader, const std::string& sysroot = "");

// Throws Error naming every missing file, the package that provides it and the apt-get command.
void check_loaders(const LoaderPlan& plan, const std::string& sysroot = "");

// The GRUB netboot directory for this machine's GRUB build, made once by grub-mknetdir in
// `cache_dir` (under a name derived from the GRUB build, so a GRUB upgrade makes a new one).
// Returns the directory, or "" with `dry_run` when it does not exist yet. Files inside are
// relative to the TFTP root (boot/grub/...).
std::string grub_netdir(const std::string& cache_dir, bool dry_run,
                        const std::string& sysroot = "");

// Every regular file below `dir`, as paths relative to it, sorted.
std::vector<std::string> list_files(const std::string& dir);

}  // namespace storkit
