// One running copy of the management VM, as its disk sees it: every 20-50 ms a write to the
// sim's disk tagged with the copy's client id and node, until the harness kills it. A refused
// write (the client was blocklisted by a fencing) is logged by the sim and the writer goes on,
// as a fenced VM keeps failing its I/O until it is stopped.
//
//   mgmtvm_fault_writer SIM_DIR CLIENT NODE
#include <fmt/format.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "mgmtvm/backend_sim.h"

int main(int argc, char** argv) {
    if (argc != 4) {
        fmt::print(stderr, "usage: mgmtvm_fault_writer SIM_DIR CLIENT NODE\n");
        return 2;
    }
    try {
        storkit::SimDisk disk(argv[1]);
        uint64_t client = std::stoull(argv[2]);
        std::string node = argv[3];
        std::mt19937 rng(static_cast<unsigned>(client));
        std::uniform_int_distribution<int> pause(20, 50);
        for (uint64_t seq = 1;; ++seq) {
            disk.write(client, node, seq);
            std::this_thread::sleep_for(std::chrono::milliseconds(pause(rng)));
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "mgmtvm_fault_writer: error: {}\n", e.what());
        return 1;
    }
}
