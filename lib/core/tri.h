// A three-valued answer: yes, no, or unknown (the question could not be answered in time).
#pragma once

#include <string_view>

namespace storkit {

enum class Tri { kNo = 0, kYes = 1, kUnknown = 2 };

constexpr std::string_view to_string(Tri t) {
    switch (t) {
        case Tri::kYes: return "yes";
        case Tri::kNo: return "no";
        case Tri::kUnknown: return "unknown";
    }
    return "unknown";
}

}  // namespace storkit
