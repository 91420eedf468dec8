// Integers read from JSON that storkit did not just produce (state files, records in shared
// storage, other programs' answers). nlohmann's get<T>() turns 1e30 or -1 into an integer type
// with a cast whose result is undefined or wrapped; these take only an integer within T's range.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "core/error.h"

namespace storkit {

// `v` as a T, or Error naming `key` when it is not an integer T can hold.
template <typename T>
T json_integer(const nlohmann::json& v, const char* key) {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    using Limits = std::numeric_limits<T>;
    if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        if (u <= static_cast<std::uint64_t>(Limits::max())) return static_cast<T>(u);
    } else if (v.is_number_integer()) {
        auto i = v.get<std::int64_t>();
        if constexpr (std::is_signed_v<T>) {
            if (i >= static_cast<std::int64_t>(Limits::min()) &&
                i <= static_cast<std::int64_t>(Limits::max()))
                return static_cast<T>(i);
        } else {
            if (i >= 0 && static_cast<std::uint64_t>(i) <= Limits::max()) return static_cast<T>(i);
        }
    }
    throw Error(
        fmt::format("\"{}\" is not an integer from {} to {}", key, Limits::min(), Limits::max()));
}

// The integer at `obj[key]`, `fallback` when absent; Error when present and not a T.
template <typename T>
T json_integer_or(const nlohmann::json& obj, const char* key, T fallback) {
    auto it = obj.find(key);
    return it == obj.end() ? fallback : json_integer<T>(*it, key);
}

}  // namespace storkit
