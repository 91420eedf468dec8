// One process's connection to a Ceph cluster through librados (and librbd for images), for the
// ceph storage backend. Every operation is bounded: the connection sets client_mount_timeout,
// rados_mon_op_timeout and rados_osd_op_timeout to the timeout it is given, so that a dead
// cluster fails a call in seconds instead of hanging (by default a connect waits 300 s and an
// operation forever).
#pragma once

#include <rados/librados.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace storkit::ceph {

struct ClientOptions {
    std::string conf;    // ceph.conf (monitors, keyring)
    std::string client;  // the cephx id, without "client."
    std::string pool;    // where the image and the lease object live
    std::chrono::milliseconds timeout{3000};
};

// "-110 (Connection timed out)" for a negative errno from librados.
std::string errno_text(int r);

struct MonReply {
    int rc = 0;
    std::string out;     // the command's output (JSON when asked for)
    std::string status;  // the monitor's words, on failure
};

// One image client's identity as the OSDs see it.
struct Watcher {
    std::string addr;  // "127.0.0.1:0/3712938219": what a blocklist entry names
    int64_t id = 0;    // client.ID
};

// One compound RADOS operation, released when it goes out of scope.
struct WriteOp {
    rados_write_op_t op = rados_create_write_op();
    WriteOp() = default;
    WriteOp(const WriteOp&) = delete;
    WriteOp& operator=(const WriteOp&) = delete;
    ~WriteOp() { rados_release_write_op(op); }
};
struct ReadOp {
    rados_read_op_t op = rados_create_read_op();
    ReadOp() = default;
    ReadOp(const ReadOp&) = delete;
    ReadOp& operator=(const ReadOp&) = delete;
    ~ReadOp() { rados_release_read_op(op); }
};

class Client {
  public:
    explicit Client(ClientOptions o);  // connects nothing yet
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Connects on first use; throws Error naming the conf, the client and librados' reason.
    rados_t cluster();
    rados_ioctx_t pool();
    uint64_t instance_id();  // this connection's client.ID
    const ClientOptions& options() const { return o_; }

    // A monitor command given as JSON; rc < 0 is the monitor's refusal or a timeout.
    MonReply mon_command(const std::string& json);
    // The clients that have `image` open (its header object's watchers).
    std::vector<Watcher> watchers(const std::string& image);

  private:
    void connect();
    ClientOptions o_;
    std::mutex mu_;
    rados_t cluster_ = nullptr;
    rados_ioctx_t pool_ = nullptr;
    bool connected_ = false;
    std::string failed_;  // why the connect failed: every later call fails at once with it
};

}  // namespace storkit::ceph
