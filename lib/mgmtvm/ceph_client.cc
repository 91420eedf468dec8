#include "mgmtvm/ceph_client.h"

#include <fmt/format.h>
#include <rbd/librbd.h>

#include <cstring>

#include "core/error.h"

namespace storkit::ceph {

namespace {

struct RadosBuffer {
    char* data = nullptr;
    size_t len = 0;
    ~RadosBuffer() {
        if (data) rados_buffer_free(data);
    }
    std::string str() const { return data ? std::string(data, len) : std::string(); }
};

}  // namespace

std::string errno_text(int r) {
    return fmt::format("{} ({})", r, std::strerror(-r));
}

Client::Client(ClientOptions o) : o_(std::move(o)) {}

Client::~Client() {
    if (pool_) rados_ioctx_destroy(pool_);
    if (cluster_) rados_shutdown(cluster_);
}

void Client::connect() {
    std::lock_guard<std::mutex> lock(mu_);
    if (connected_) return;
    if (!failed_.empty()) throw Error(failed_);
    auto fail = [&](const std::string& step, int r) {
        failed_ = fmt::format("ceph: {} (conf {}, client.{}): {}", step, o_.conf, o_.client,
                              errno_text(r));
        if (pool_) rados_ioctx_destroy(pool_);
        if (cluster_) rados_shutdown(cluster_);
        pool_ = nullptr;
        cluster_ = nullptr;
        return Error(failed_);
    };
    int r = rados_create(&cluster_, o_.client.c_str());
    if (r < 0) {
        cluster_ = nullptr;
        throw fail("cannot create a client", r);
    }
    r = rados_conf_read_file(cluster_, o_.conf.c_str());
    if (r < 0) throw fail("cannot read the configuration", r);
    // Bounded everywhere: a connect, a monitor command, an OSD operation.
    std::string secs = fmt::format("{}", std::max<int64_t>(1, (o_.timeout.count() + 999) / 1000));
    for (const char* key :
         {"client_mount_timeout", "rados_mon_op_timeout", "rados_osd_op_timeout"}) {
        r = rados_conf_set(cluster_, key, secs.c_str());
        if (r < 0) throw fail(key, r);
    }
    r = rados_connect(cluster_);
    if (r < 0) throw fail("cannot connect", r);
    r = rados_ioctx_create(cluster_, o_.pool.c_str(), &pool_);
    if (r < 0) {
        pool_ = nullptr;
        throw fail(fmt::format("cannot open pool {}", o_.pool), r);
    }
    connected_ = true;
}

rados_t Client::cluster() {
    connect();
    return cluster_;
}

rados_ioctx_t Client::pool() {
    connect();
    return pool_;
}

uint64_t Client::instance_id() {
    return rados_get_instance_id(cluster());
}

MonReply Client::mon_command(const std::string& json) {
    const char* cmd[] = {json.c_str()};
    RadosBuffer out, status;
    MonReply reply;
    reply.rc =
        rados_mon_command(cluster(), cmd, 1, "", 0, &out.data, &out.len, &status.data, &status.len);
    reply.out = out.str();
    reply.status = status.str();
    return reply;
}

std::vector<Watcher> Client::watchers(const std::string& image) {
    rbd_image_t img = nullptr;
    // A read-only open adds no watch of its own.
    int r = rbd_open_read_only(pool(), image.c_str(), &img, nullptr);
    if (r < 0)
        throw Error(
            fmt::format("ceph: cannot open image {}/{}: {}", o_.pool, image, errno_text(r)));
    std::vector<rbd_image_watcher_t> list(16);
    size_t n = list.size();
    r = rbd_watchers_list(img, list.data(), &n);
    if (r == -ERANGE) {
        list.resize(n);
        r = rbd_watchers_list(img, list.data(), &n);
    }
    std::vector<Watcher> found;
    if (r == 0) {
        for (size_t i = 0; i < n; ++i) found.push_back({list[i].addr, list[i].id});
        rbd_watchers_list_cleanup(list.data(), n);
    }
    rbd_close(img);
    if (r < 0)
        throw Error(fmt::format("ceph: cannot list the watchers of {}/{}: {}", o_.pool, image,
                                errno_text(r)));
    return found;
}

}  // namespace storkit::ceph
