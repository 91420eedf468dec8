#include "core/error.h"

#include <cstring>

namespace storkit {

std::string errno_text(int err) {
    char buf[256];
    // GNU strerror_r returns the message pointer (possibly not buf).
    return strerror_r(err, buf, sizeof buf);
}

}  // namespace storkit
