// Reading a file another machine serves over HTTP (the control machine's table, for a monitor
// that runs elsewhere), through libcurl: bounded in time and size, no redirects, http and https
// only.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace storkit {

// Whether `text` is an http:// or https:// URL (anything else is a local path).
bool is_http_url(const std::string& text);

// The body of a GET of `url`. Throws Error naming the URL when there is no answer within
// `timeout`, the answer is not 2xx, or the body grows past `max_bytes`.
std::string http_get(const std::string& url, std::chrono::milliseconds timeout, size_t max_bytes);

}  // namespace storkit
