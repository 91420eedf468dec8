#include "core/progress_bar.h"

#include <catch2/catch.hpp>
#include <vector>

using storkit::format_progress;

TEST_CASE("a progress line: bar, percentage, counts and the time left at the rate so far") {
    CHECK(format_progress("image", 120ull << 20, 240ull << 20, "MiB", 35) ==
          "image    [##########----------]  50%  120/240 MiB  0:35 left");
    CHECK(format_progress("boot", 1, 4, "nodes", 30) ==
          "boot     [#####---------------]  25%  1/4 nodes  1:30 left");
    // Nothing done yet: no rate, so no time left; done: none left.
    CHECK(format_progress("boot", 0, 4, "nodes", 3) ==
          "boot     [--------------------]   0%  0/4 nodes");
    CHECK(format_progress("boot", 4, 4, "nodes", 3) ==
          "boot     [####################] 100%  4/4 nodes");
    CHECK(format_progress("import", 1, 100, "%", 7200).ends_with("1/100 %  198:00:00 left"));
    CHECK(format_progress("x", 9, 0, "", 1).find("100%") != std::string::npos);  // empty work
}

TEST_CASE("the bar draws only for a person, and ends its line once") {
    storkit::Report report;
    std::vector<std::string> seen;
    {
        storkit::ProgressBar bar(report, "image", "MiB");
        bar.update(1, 2);  // nobody watches: nothing is formatted or drawn
        CHECK_FALSE(bar.shown());
    }
    report.on_progress = [&](const std::string& s) { seen.push_back(s); };
    {
        storkit::ProgressBar bar(report, "boot", "nodes");
        bar.update(1, 3);
        bar.update(2, 3);  // within 100 ms of the last: skipped
        bar.update(3, 3);  // the end is always drawn
    }
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].starts_with("boot     [######"));
    CHECK(seen[1].find("3/3 nodes") != std::string::npos);
    CHECK(seen[2].empty());  // the line ended
}
