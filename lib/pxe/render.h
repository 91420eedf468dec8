// Rendering everything a network install needs, in memory: the dnsmasq config (DHCP + TFTP),
// one dhcp-hostsdir reservation per node, per-node boot loader configs (pxelinux, GRUB or
// iPXE), per-node kickstarts from the install template, the lighttpd config, and the hook
// that both servers run (pxe-report with the state directory).
//
// Layout, with URL paths the same on TFTP and HTTP:
//   storkit/images/<version>/...   the extracted image (HTTP: all of it; TFTP: kernel, initrd)
//   storkit/ks/<node>.cfg          HTTP: the node's kickstart, from <pxe state>/ks through the
//                                  CGI, to the node's own address only
//   storkit/boot.ipxe, storkit/ipxe/<mac-with-hyphens>.ipxe   HTTP: iPXE scripts
//   pxelinux.cfg/01-<mac>, boot/grub/grub.cfg-01-<mac>        TFTP: native loader configs
//   /storkit/report                HTTP: the CGI for install events (the hook)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pxe/boot_loaders.h"
#include "pxe/config.h"
#include "pxe/file_set.h"
#include "pxe/image_cache.h"
#include "pxe/install_book.h"
#include "pxe/inventory.h"

namespace storkit {

struct PxeRenderInput {
    const PxeConfig& cfg;
    const Inventory& inventory;
    const PreparedImage& image;
    const LoaderPlan& loaders;
    std::string grub_dir;     // the GRUB netboot directory, "" when not needed or not built yet
    bool image_ready = true;  // false in a dry run before the image is extracted
    // Which nodes are installed (they get local-boot loader configs and no kickstart) and each
    // install's token; without a book every node with a MAC installs, with no token.
    const InstallBook* book = nullptr;
    // Filled with each node's per-node loader configs, for the hand-off.
    std::map<std::string, std::vector<std::string>>* boot_files = nullptr;
};

// Adds every generated file, link and directory to `files`.
void render_pxe(const PxeRenderInput& in, FileSet& files);

std::string render_dnsmasq_conf(const PxeConfig& cfg, const LoaderPlan& loaders);
std::string render_lighttpd_conf(const PxeConfig& cfg);
// The program dnsmasq and lighttpd run (cfg.report_hook()): pxe-report with --state-dir.
std::string render_report_hook(const PxeConfig& cfg);

// "http://198.18.0.1" or "http://198.18.0.1:8080".
std::string http_base_url(const PxeConfig& cfg);

}  // namespace storkit
