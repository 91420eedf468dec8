// Rendering everything a network install needs, in memory: the dnsmasq config (DHCP + TFTP),
// one dhcp-hostsdir reservation per node, per-node boot loader configs (pxelinux, GRUB or
// iPXE), per-node kickstarts from the install template, and the lighttpd config.
//
// Layout, with URL paths the same on TFTP and HTTP:
//   storkit/images/<version>/...   the extracted image (HTTP: all of it; TFTP: kernel, initrd)
//   storkit/ks/<node>.cfg          HTTP: the node's kickstart
//   storkit/boot.ipxe, storkit/ipxe/<mac-with-hyphens>.ipxe   HTTP: iPXE scripts
//   pxelinux.cfg/01-<mac>, boot/grub/grub.cfg-01-<mac>        TFTP: native loader configs
//   /storkit/report                HTTP: the CGI for install events (the hook)
#pragma once

#include <string>
#include <vector>

#include "pxe/boot_loaders.h"
#include "pxe/config.h"
#include "pxe/file_set.h"
#include "pxe/image_cache.h"
#include "pxe/inventory.h"

namespace storkit {

struct PxeRenderInput {
    const PxeConfig& cfg;
    const Inventory& inventory;
    const PreparedImage& image;
    const LoaderPlan& loaders;
    std::string grub_dir;     // the GRUB netboot directory, "" when not needed or not built yet
    bool image_ready = true;  // false in a dry run before the image is extracted
};

// Adds every generated file, link and directory to `files`.
void render_pxe(const PxeRenderInput& in, FileSet& files);

std::string render_dnsmasq_conf(const PxeConfig& cfg, const LoaderPlan& loaders);
std::string render_lighttpd_conf(const PxeConfig& cfg);

// "http://198.18.0.1" or "http://198.18.0.1:8080".
std::string http_base_url(const PxeConfig& cfg);

}  // namespace storkit
