// Host ranges (bmc-power's HOST[-RANGE][:PORT] arguments), IPv4 addresses, subnets and pools:
// parsed or refused with a reason, and what parses prints back to something that parses the
// same.
#include "core/host_range.h"
#include "core/netaddr.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text = storkit::fuzz::text_of(data, size);
    storkit::fuzz::refusal_ok([&] {
        std::vector<std::string> hosts = storkit::expand_hosts(text, 623);
        if (hosts.empty()) __builtin_trap();
    });
    if (auto a = storkit::parse_ipv4(text)) {
        auto again = storkit::parse_ipv4(storkit::ipv4_string(*a));
        if (!again || *again != *a) __builtin_trap();
    }
    std::string why;
    (void)storkit::parse_subnet(text, &why);
    (void)storkit::parse_range(text, &why);
    return 0;
}
