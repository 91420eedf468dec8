// What prepare adds to every node's kickstart (or preseed) so that the installer reports its
// phases to pxe-report without the operator writing any: "started" once it has its kickstart,
// a "heartbeat" while it installs, "finished" at the end, and "failed" with the tail of its
// log when it fails. Each report is one HTTP POST to report_url from the node's own address;
// curl where the installer has it (Anaconda), else busybox wget (d-i, small initrds).
#pragma once

#include <string>

namespace storkit {

enum class ReportSnippets { kKickstart, kPreseed, kNone };

// The text to append to a rendered install file: %pre/%post/%onerror sections for a
// kickstart, preseed/early_command and late_command for a preseed, nothing for kNone.
// Every report names the node and carries its install token (lower-case letters, digits and
// hyphens only: nothing to escape), which pxe-report checks.
std::string report_snippets(ReportSnippets kind, const std::string& report_url, double heartbeat_s,
                            const std::string& node, const std::string& token);

}  // namespace storkit
