// The VM's RBD image, for mgmtvm-deploy: its size, creating or growing it, and importing a
// local disk image into it with qemu-img (raw or qcow2, through qemu's rbd driver).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "mgmtvm/ceph_client.h"

namespace storkit::ceph {

// The image's size in bytes, nullopt when there is no such image. Throws Error otherwise.
std::optional<uint64_t> image_size(Client& c, const std::string& image);
void create_image(Client& c, const std::string& image, uint64_t bytes);
void grow_image(Client& c, const std::string& image, uint64_t bytes);

// A local disk image as qemu-img sees it.
struct DiskFile {
    std::string path;
    std::string format;     // "raw", "qcow2", ...
    uint64_t virtual_size;  // bytes the guest sees
};
// Throws Error naming the file when qemu-img cannot read it.
DiskFile inspect_disk_file(const std::string& path);

// Writes the file's guest-visible bytes over the image (which must exist and be large enough),
// then compares the two byte for byte. `timeout` bounds each of the two qemu-img runs.
// `progress`, when given, is told the percentage copied as qemu-img reports it.
void import_disk_file(const ClientOptions& o, const std::string& image, const DiskFile& file,
                      std::chrono::milliseconds timeout,
                      const std::function<void(double)>& progress = {});

}  // namespace storkit::ceph
