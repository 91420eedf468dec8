#include "core/progress_bar.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace storkit {

namespace {

constexpr int kWidth = 20;

std::string amount(uint64_t n, const std::string& unit) {
    if (unit == "MiB") return fmt::format("{}", n >> 20);
    return fmt::format("{}", n);
}

std::string duration(double s) {
    long total = s > 0 ? std::lround(s) : 0;
    if (total >= 3600)
        return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
    return fmt::format("{}:{:02}", total / 60, total % 60);
}

}  // namespace

std::string format_progress(const std::string& label, uint64_t done, uint64_t total,
                            const std::string& unit, double elapsed_s) {
    done = std::min(done, total);
    double part = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
    int filled = static_cast<int>(part * kWidth);
    std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '-');
    std::string out =
        fmt::format("{:<8} [{}] {:3}%  {}/{} {}", label, bar, static_cast<int>(part * 100),
                    amount(done, unit), amount(total, unit), unit);
    if (done > 0 && done < total && elapsed_s > 0)
        out += fmt::format("  {} left", duration(elapsed_s * static_cast<double>(total - done) /
                                                 static_cast<double>(done)));
    return out;
}

ProgressBar::ProgressBar(const Report& report, std::string label, std::string unit)
    : report_(report),
      label_(std::move(label)),
      unit_(std::move(unit)),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(uint64_t done, uint64_t total) {
    if (!report_.shows_progress() || finished_) return;
    auto now = std::chrono::steady_clock::now();
    if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    report_.progress(format_progress(label_, done, total, unit_,
                                     std::chrono::duration<double>(now - start_).count()));
}

void ProgressBar::finish() {
    if (finished_) return;
    finished_ = true;
    if (drawn_) report_.progress("");
}

}  // namespace storkit
