// The config loaders (mgmtvm.json and pxe.json) on arbitrary bytes: a clear ConfigError or a
// config, never a crash, a hang or another exception.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "fuzz_util.h"
#include "mgmtvm/config.h"
#include "pxe/config.h"

namespace {

std::string scratch_file() {
    static std::string path = [] {
        char tmpl[] = "/tmp/storkit-fuzz.XXXXXX";
        std::string dir = ::mkdtemp(tmpl);
        return dir + "/config.json";
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string path = scratch_file();
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    ::chmod(path.c_str(), 0600);
    storkit::fuzz::refusal_ok([&] { storkit::load_mgmtvm_config(path, ""); });
    storkit::fuzz::refusal_ok(
        [&] { storkit::load_pxe_config(path, storkit::PxeConfigParts::kAll); });
    return 0;
}
