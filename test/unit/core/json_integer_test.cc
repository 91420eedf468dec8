#include "core/json_integer.h"

#include <catch2/catch.hpp>

using namespace storkit;
using nlohmann::json;

TEST_CASE("an integer within the type's range is read as it is") {
    CHECK(json_integer<int>(json(-5), "k") == -5);
    CHECK(json_integer<uint64_t>(json(18446744073709551615ULL), "k") == 18446744073709551615ULL);
    CHECK(json_integer<int64_t>(json(INT64_MIN), "k") == INT64_MIN);
    CHECK(json_integer_or(json::object(), "k", 7) == 7);
    CHECK(json_integer_or(json{{"k", 3}}, "k", 7) == 3);
}

// nlohmann's get<T>() casts these: 1e30 to an integer is undefined behaviour, -1 to an unsigned
// wraps to 18446744073709551615 and 2^31 to int wraps to a negative number.
TEST_CASE("a decimal, a value out of range or another type is refused, naming the key") {
    CHECK_THROWS_WITH(json_integer<uint64_t>(json(1e30), "epoch"),
                      "\"epoch\" is not an integer from 0 to 18446744073709551615");
    CHECK_THROWS_AS(json_integer<uint64_t>(json(-1), "epoch"), Error);
    CHECK_THROWS_AS(json_integer<int>(json(2147483648LL), "n"), Error);
    CHECK_THROWS_AS(json_integer<int>(json(-2147483649LL), "n"), Error);
    CHECK_THROWS_AS(json_integer<int>(json(18446744073709551615ULL), "n"), Error);
    CHECK_THROWS_AS(json_integer<int>(json(2.5), "n"), Error);
    CHECK_THROWS_AS(json_integer<int>(json("3"), "n"), Error);
    CHECK_THROWS_AS(json_integer<int>(json(nullptr), "n"), Error);
    CHECK_THROWS_AS(json_integer_or(json{{"k", -1e30}}, "k", 0), Error);
}
