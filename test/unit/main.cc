// Catch2's main, ending like every storkit tool (core/runner.cc): when a call abandoned at its
// deadline still runs inside a C library (librados, libvirt), the process leaves without
// running static destructors under that thread.
#define CATCH_CONFIG_RUNNER
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <iostream>

#include "core/deadline.h"

int main(int argc, char** argv) {
    int rc = Catch::Session().run(argc, argv);
    if (storkit::abandoned_calls() > 0) {
        std::cout.flush();
        std::fflush(nullptr);
        _exit(rc);
    }
    return rc;
}
