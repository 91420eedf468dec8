// Shared by the libFuzzer targets: what a target may throw and how an input becomes text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace storkit::fuzz {

inline std::string text_of(const uint8_t* data, size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

inline std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        out.emplace_back(text.substr(pos, eol - pos));
        pos = eol + 1;
    }
    return out;
}

// Runs `f`; a storkit::Error (a clear, named refusal) is an accepted outcome for any input.
// Anything else (another exception, a crash, a sanitizer report) ends the run as a finding.
template <typename F>
void refusal_ok(F&& f) {
    try {
        f();
    } catch (const storkit::Error&) {
    }
}

// For readers whose callers treat any std::exception as "this record cannot be read" (the
// management VM's records: the tick then acts as if the record were unknown).
template <typename F>
void unreadable_ok(F&& f) {
    try {
        f();
    } catch (const std::exception&) {
    }
}

}  // namespace storkit::fuzz
