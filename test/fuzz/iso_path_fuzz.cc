// The checks on an ISO image's entries, which come from a file nobody vouched for: entry names
// made clean or refused (absolute, ".."), and symlinks (one per input line, "PATH\tTARGET")
// that must stay inside the extracted tree.
#include "fuzz_util.h"
#include "pxe/iso.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::map<std::string, std::string> links;
    for (const std::string& line : storkit::fuzz::lines_of(storkit::fuzz::text_of(data, size))) {
        size_t tab = line.find('\t');
        std::optional<std::string> path = storkit::safe_entry_path(line.substr(0, tab));
        if (path) {
            if (path->starts_with('/') || *path == ".." || path->starts_with("../") ||
                path->find("/../") != std::string::npos || path->ends_with("/.."))
                __builtin_trap();
            if (tab != std::string::npos && !path->empty()) links[*path] = line.substr(tab + 1);
        }
    }
    for (const auto& [link, target] : links) {
        bool inside = storkit::symlink_stays_inside(link, target, links);
        if (inside && target.starts_with('/')) __builtin_trap();
    }
    return 0;
}
