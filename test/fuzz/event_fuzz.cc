// What pxe-report reads from machines that are not trusted yet and from its own files: hook
// arguments from dnsmasq (hostnames, vendor strings), lines of the event log, and the lease
// table, node table and install book it keeps, and pxe-provision boot's boot.json. Each line of
// the input is one of them.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "pxe/boot_plan.h"
#include "pxe/event.h"
#include "pxe/node_table.h"
#include "pxe/table.h"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text = storkit::fuzz::text_of(data, size);
    storkit::DhcpLeaseTable table;
    for (const std::string& line : storkit::fuzz::lines_of(text)) {
        // As dnsmasq's dhcp-script arguments: split at spaces.
        std::vector<std::string> args;
        size_t pos = 0;
        while (pos < line.size()) {
            size_t sp = line.find(' ', pos);
            if (sp == std::string::npos) sp = line.size();
            args.push_back(line.substr(pos, sp - pos));
            pos = sp + 1;
        }
        storkit::fuzz::refusal_ok([&] {
            if (auto e = storkit::event_from_hook(args, 1e9)) table.apply(*e);
        });
        // As a line of events.jsonl.
        json j = json::parse(line, nullptr, false);
        storkit::fuzz::refusal_ok(
            [&] { table.apply(storkit::PxeEvent::from_json(j, "events.jsonl")); });
        storkit::fuzz::refusal_ok([&] { storkit::DhcpLeaseTable::from_json(j, "leases.json"); });
        storkit::fuzz::refusal_ok([&] {
            storkit::BootState b = storkit::BootState::from_json(j, "boot.json");
            if (storkit::BootState::from_json(b.to_json(), "boot.json").to_json() != b.to_json())
                __builtin_trap();
        });
    }
    // The whole input as the node table; then the table joined and written back.
    std::vector<storkit::NodeEntry> nodes;
    storkit::fuzz::refusal_ok([&] { nodes = storkit::parse_node_table(text, "nodes.json"); });
    json joined = storkit::joined_table(nodes, table, 1e9);
    storkit::fuzz::refusal_ok([&] {
        storkit::DhcpLeaseTable again =
            storkit::DhcpLeaseTable::from_json(table.to_json(), "leases.json");
        if (again.to_json() != table.to_json()) __builtin_trap();  // the round trip loses nothing
    });
    (void)storkit::refused_summary(joined);
    return 0;
}
