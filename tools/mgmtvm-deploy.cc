// mgmtvm-deploy: the management VM's image made to size, a disk image imported once, the tick
// installed; a rerun changes nothing.
#include "core/runner.h"
#include "mgmtvm/config.h"
#include "mgmtvm/deploy_command.h"

int main(int argc, char** argv) {
    storkit::DeployOptions opts;
    storkit::ToolSpec spec;
    spec.name = "mgmtvm-deploy";
    spec.description =
        "Deploys the management VM on Ceph (storage.backend \"ceph\"): creates the RBD image\n"
        "(or grows it to size), imports a raw or qcow2 disk image into it once and checks it\n"
        "reads back identical, writes the domain XML (vm.domain_xml) when there is none,\n"
        "defines the libvirt secret with the client's key and the domain on every node\n"
        "(autostart off, the same UUID, marked with the XML's checksum), and installs the tick\n"
        "in cron or as a systemd timer. A rerun changes nothing; -n prints what it would do.";
    spec.default_config = storkit::kDefaultMgmtvmConfig;
    spec.add_options = [&](CLI::App& app) {
        app.add_option("--image-file", opts.image_file,
                       "A raw or qcow2 disk image to import into the RBD image (once)");
        app.add_option("--size", opts.size,
                       "The RBD image's size (K, M, G, T: binary); default the file's");
        app.add_option("--cron-file", opts.cron_file, "Where the tick's crontab goes")
            ->capture_default_str();
        app.add_flag("--timer", opts.timer,
                     "Run the tick from a systemd timer every lease.tick_s instead of cron");
        app.add_option("--unit-dir", opts.unit_dir, "Where the timer's units go")
            ->capture_default_str();
        app.add_option("--memory", opts.memory, "A new domain XML's memory (K, M, G, T)")
            ->capture_default_str();
        app.add_option("--vcpus", opts.vcpus, "A new domain XML's virtual CPUs")
            ->capture_default_str()
            ->check(CLI::Range(1, 512));
        app.add_option("--virt-type", opts.virt_type,
                       "A new domain XML's type: kvm, or qemu where there is no /dev/kvm")
            ->capture_default_str()
            ->check(CLI::IsMember({"kvm", "qemu"}));
        app.add_option("--bridge", opts.bridge,
                       "A host bridge for a new domain XML's virtio NIC (default: no NIC)");
        app.add_option("--import-timeout", opts.import_timeout_s,
                       "Seconds the import, and then the comparison, may take each")
            ->capture_default_str();
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::mgmtvm_deploy_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
