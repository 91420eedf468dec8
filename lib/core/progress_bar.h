// A progress bar for long work, for a person at a terminal only: it goes through
// Report::progress, which the runner wires to stderr when that is a terminal and not --json, so
// cron mail and --json output never see it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/report.h"

namespace storkit {

// "image    [##########----------]  52%  120/230 MiB  0:35 left": `label` padded to 8, a bar
// of 20, the percentage, the counts (in MiB when `unit` is "MiB", as numbers with `unit` after
// them otherwise) and, once something is done, the time left at the rate so far.
std::string format_progress(const std::string& label, uint64_t done, uint64_t total,
                            const std::string& unit, double elapsed_s);

class ProgressBar {
  public:
    ProgressBar(const Report& report, std::string label, std::string unit);
    ~ProgressBar() { finish(); }
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    // Redraws at most ten times a second, and always at the end (done == total).
    void update(uint64_t done, uint64_t total);
    // Ends the bar's line (once; the destructor calls it too).
    void finish();
    bool shown() const { return report_.shows_progress(); }

  private:
    const Report& report_;
    std::string label_, unit_;
    std::chrono::steady_clock::time_point start_, last_;
    bool drawn_ = false, finished_ = false;
};

}  // namespace storkit
