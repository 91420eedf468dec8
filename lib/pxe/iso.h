// Reading ISO images with libarchive, without mounting them, and extracting them safely: no
// entry may land outside the target directory ("..", absolute names, symlinks that resolve
// outside the tree, hard links to outside names).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace storkit {

// An entry name as stored in an image, made relative and clean ("./a//b" -> "a/b"; the root
// itself, "." or "./", gives ""). nullopt when it is absolute or has a ".." component.
std::optional<std::string> safe_entry_path(std::string_view name);

// Whether the symlink at `link` (a clean relative path) with `target` stays inside the tree,
// following the image's other symlinks (`links`: path -> target) the way the kernel would.
// Absolute targets never stay inside.
bool symlink_stays_inside(const std::string& link, const std::string& target,
                          const std::map<std::string, std::string>& links);

// What an image holds, from its headers alone.
struct ImageListing {
    std::vector<std::string> files;               // regular files (clean relative paths)
    std::map<std::string, std::string> symlinks;  // path -> target
    uint64_t bytes = 0;                           // total size of the regular files
};

using Progress = std::function<void(uint64_t done, uint64_t total)>;

// Reads every header of the image and checks every entry. Throws Error naming the image and
// the entry when one would land outside the target, or when the image cannot be read.
ImageListing scan_image(const std::string& iso_path);

// Extracts the whole image into `dest`, which must not exist: into a temporary directory
// beside it, renamed to `dest` when complete (so `dest` existing means complete). Symlinks are
// created last, after the checks of scan_image() against the complete listing.
void extract_image(const std::string& iso_path, const std::string& dest,
                   const ImageListing& listing, const Progress& progress);

// Where the installer's kernel and initrd are, and which installer family that layout is.
struct BootFiles {
    std::string kernel;  // path inside the image
    std::string initrd;
    std::string family;  // "rhel", "debian" or "custom"
};

// Finds the kernel and initrd at the usual places of RHEL-family and Debian/Ubuntu installer
// trees (`is_file` says whether a path is a regular file in the image). Throws Error naming the
// image and the places it looked.
BootFiles find_boot_files(const std::function<bool(const std::string&)>& is_file,
                          const std::string& image_name);

// The default kernel arguments for an installer family (a template over the node variables).
std::string default_kernel_args(const std::string& family);

}  // namespace storkit
