#include "pxe/http_get.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <mutex>

#include "core/error.h"

namespace storkit {

namespace {

struct Body {
    std::string data;
    size_t max = 0;
    bool too_big = false;
};

size_t collect(char* ptr, size_t size, size_t n, void* user) {
    Body* b = static_cast<Body*>(user);
    size_t len = size * n;
    if (b->data.size() + len > b->max) {
        b->too_big = true;
        return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    b->data.append(ptr, len);
    return len;
}

class Easy {
  public:
    Easy() {
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
        h_ = curl_easy_init();
        if (!h_) throw Error("libcurl: cannot make a handle");
    }
    ~Easy() { curl_easy_cleanup(h_); }
    Easy(const Easy&) = delete;
    Easy& operator=(const Easy&) = delete;
    CURL* get() const { return h_; }

  private:
    CURL* h_;
};

}  // namespace

bool is_http_url(const std::string& text) {
    return text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0;
}

std::string http_get(const std::string& url, std::chrono::milliseconds timeout, size_t max_bytes) {
    Easy e;
    Body body;
    body.max = max_bytes;
    char why[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(e.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(e.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(e.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e.get(), CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e.get(), CURLOPT_ERRORBUFFER, why);
    CURLcode rc = curl_easy_perform(e.get());
    if (body.too_big)
        throw Error(fmt::format("{}: the answer is larger than {} bytes", url, max_bytes));
    if (rc != CURLE_OK)
        throw Error(fmt::format("{}: {}", url, why[0] ? why : curl_easy_strerror(rc)));
    long status = 0;
    curl_easy_getinfo(e.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) throw Error(fmt::format("{}: HTTP {}", url, status));
    return body.data;
}

}  // namespace storkit
