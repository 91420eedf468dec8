// The CGI's form decoder and the phase report built from it: bodies and query strings posted
// by machines that are being installed (or by anyone on the provisioning network).
#include "fuzz_util.h"
#include "pxe/event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text = storkit::fuzz::text_of(data, size);
    std::map<std::string, std::string> fields;
    storkit::fuzz::refusal_ok([&] { fields = storkit::parse_form(text); });
    for (const auto& [k, v] : fields)
        if (k.size() > text.size() || v.size() > text.size()) __builtin_trap();
    storkit::fuzz::refusal_ok([&] {
        storkit::PxeEvent e = storkit::phase_event(fields, "198.18.0.9", 1e9);
        (void)e.to_json().dump();
    });
    return 0;
}
