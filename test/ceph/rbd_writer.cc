// rbd_writer CONF POOL IMAGE LOG: plays a running copy of the VM on a real RBD image: opens it
// for writing (a watcher, as qemu is) and writes one block every 50 ms, appending a line per
// write to LOG: "ok SEQ TIME" or "refused SEQ TIME ERRNO". After its first refused write (it
// was fenced) it stops. Runs until killed otherwise.
#include <rados/librados.h>
#include <rbd/librbd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: rbd_writer CONF POOL IMAGE LOG\n");
        return 2;
    }
    rados_t cluster = nullptr;
    rados_ioctx_t io = nullptr;
    rbd_image_t img = nullptr;
    if (rados_create(&cluster, "admin") < 0 || rados_conf_read_file(cluster, argv[1]) < 0 ||
        rados_conf_set(cluster, "rados_osd_op_timeout", "5") < 0 || rados_connect(cluster) < 0 ||
        rados_ioctx_create(cluster, argv[2], &io) < 0 || rbd_open(io, argv[3], &img, nullptr) < 0) {
        std::fprintf(stderr, "rbd_writer: cannot open %s/%s\n", argv[2], argv[3]);
        if (io) rados_ioctx_destroy(io);
        if (cluster) rados_shutdown(cluster);
        return 1;
    }
    FILE* log = std::fopen(argv[4], "a");
    if (!log) return 1;
    char block[4096];
    for (unsigned long seq = 1;; ++seq) {
        std::memset(block, static_cast<int>(seq), sizeof block);
        ssize_t r = rbd_write(img, (seq % 64) * sizeof block, sizeof block, block);
        if (r < 0) {
            std::fprintf(log, "refused %lu %.3f %zd\n", seq, now(), r);
            std::fclose(log);
            // A fenced client stays cut off: nothing more to write. Its handles are released
            // (their calls fail at once or after the op timeout) so that nothing is left to
            // LeakSanitizer in the sanitizer build.
            rbd_close(img);
            rados_ioctx_destroy(io);
            rados_shutdown(cluster);
            return 0;
        }
        std::fprintf(log, "ok %lu %.3f\n", seq, now());
        std::fflush(log);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}
