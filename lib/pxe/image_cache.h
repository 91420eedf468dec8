// The ISO repository on the control machine: <repository>/<version>.iso, optionally with a
// checksum file, and the cache of extracted images, keyed by the image's SHA-256 so that an image
// is extracted once per content, whatever its name.
#pragma once

#include <optional>
#include <string>

#include "pxe/iso.h"

namespace storkit {

// SHA-256 of a file as lower-case hex (nettle). `progress` is called about five times a
// second, and once at the end.
std::string sha256_file(const std::string& path, const Progress& progress = {});

// The checksum the repository gives for `iso_path` in <iso>.sha256 or <repo>/<version>.sha256
// ("HEX", "HEX  NAME" or sha256sum lines naming several files). nullopt when neither file
// exists; throws Error naming the checksum file when it holds no SHA-256 for the image.
std::optional<std::string> expected_sha256(const std::string& iso_path);

struct PreparedImage {
    std::string iso_path;
    std::string sha256;
    std::string tree;        // <cache>/<sha256>: the extracted image
    bool cached = false;     // the tree existed when inspected
    bool extracted = false;  // extracted by store()
    bool hashed = false;     // hashed by inspect() (false: the hash was remembered)
    BootFiles boot;
    ImageListing listing;  // from the image's headers when not cached
};

class ImageCache {
  public:
    // `dir` holds one directory per image content and checksums.json.
    explicit ImageCache(std::string dir) : dir_(std::move(dir)) {}

    // Hashes the image (or recalls its hash for an unchanged file), checks it against the
    // repository's checksum file, scans it unless cached, and finds its boot files
    // (`kernel`/`initrd` override the layout search). Writes nothing. Throws Error on a
    // checksum mismatch or an unsafe image.
    PreparedImage inspect(const std::string& iso_path, const std::string& kernel,
                          const std::string& initrd, const Progress& progress) const;
    // Extracts an inspected image unless cached, and remembers its hash.
    void store(PreparedImage& image, const Progress& progress) const;

  private:
    std::optional<std::string> remembered_sha256(const std::string& iso_path) const;
    void remember_sha256(const std::string& iso_path, const std::string& sha256) const;
    std::string dir_;
};

}  // namespace storkit
