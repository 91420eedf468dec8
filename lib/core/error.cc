#include "core/error.h"

#include <cstring>

namespace storkit {

std::string errno_text(int err) {
    char buf[256];
    // GNU strerror_r returns the message pointer (possibly not buf).
    return strerror_r(err, buf, sizeof buf);
}

std::string clipped(std::string_view text, size_t max) {
    if (text.size() <= max) return std::string(text);
    size_t cut = max;
    // Back up over UTF-8 continuation bytes (10xxxxxx) to a character boundary.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return fmt::format("{}... ({} bytes)", text.substr(0, cut), text.size());
}

}  // namespace storkit
