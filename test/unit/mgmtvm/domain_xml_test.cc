// The domain XML mgmtvm-deploy writes, and what it reads back from one: libvirt's own parser
// (the test driver, in-process) must accept the XML and keep the disk as written.
#include "mgmtvm/domain_xml.h"

#include <libvirt/libvirt.h>

#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "mgmtvm/ceph_auth.h"
#include "mgmtvm/deploy_command.h"

using namespace storkit;

namespace {

DomainSpec spec() {
    DomainSpec s;
    s.name = "mgmt";
    s.uuid = "4a2f6c1e-9b1d-4c7e-8f00-0123456789ab";
    s.virt_type = "qemu";
    s.memory_mib = 512;
    s.vcpus = 3;
    s.pool = "rbd";
    s.image = "vm<1>";
    s.client = "admin";
    s.secret_uuid = "0b7e1d2c-3f4a-4b5c-9d6e-7f8091a2b3c4";
    s.monitors = {{"198.18.0.1", 6789}, {"2001:db8::2", 6789}};
    s.bridge = "br0";
    return s;
}

}  // namespace

TEST_CASE("the rendered XML is a domain libvirt accepts, with the disk as written") {
    std::string xml = render_domain_xml(spec());
    virConnectPtr c = virConnectOpen("test:///default");
    REQUIRE(c);
    virDomainPtr d = virDomainDefineXML(c, xml.c_str());
    REQUIRE(d);
    char* back = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    REQUIRE(back);
    std::string text = back;
    free(back);
    CHECK(text.find("<uuid>4a2f6c1e-9b1d-4c7e-8f00-0123456789ab</uuid>") != std::string::npos);
    CHECK(text.find("<source protocol='rbd' name='rbd/vm&lt;1&gt;'>") != std::string::npos);
    CHECK(text.find("<host name='2001:db8::2' port='6789'/>") != std::string::npos);
    CHECK(text.find("error_policy='stop' rerror_policy='stop'") != std::string::npos);
    CHECK(text.find("<secret type='ceph' uuid='0b7e1d2c-3f4a-4b5c-9d6e-7f8091a2b3c4'/>") !=
          std::string::npos);
    CHECK(text.find("<source bridge='br0'/>") != std::string::npos);
    CHECK(text.find("<vcpu placement='static'>3</vcpu>") != std::string::npos);
    virDomainUndefine(d);
    virDomainFree(d);
    virConnectClose(c);
}

TEST_CASE("without a bridge there is no NIC") {
    DomainSpec s = spec();
    s.bridge = "";
    CHECK(render_domain_xml(s).find("<interface") == std::string::npos);
}

TEST_CASE("UUIDs and the secret are read back from a definition") {
    std::string xml = render_domain_xml(spec());
    CHECK(domain_uuid_from_xml(xml) == "4a2f6c1e-9b1d-4c7e-8f00-0123456789ab");
    CHECK(ceph_secret_uuid_from_xml(xml) == "0b7e1d2c-3f4a-4b5c-9d6e-7f8091a2b3c4");
    // An operator's XML: double quotes, another secret type first, attributes in any order.
    CHECK(ceph_secret_uuid_from_xml("<auth><secret type=\"iscsi\" uuid=\"x\"/>"
                                    "<secret uuid=\"u-2\" type=\"ceph\"/></auth>") == "u-2");
    CHECK(ceph_secret_uuid_from_xml("<secret mytype='ceph' uuid='no'/>") == "");
    CHECK(domain_uuid_from_xml("<domain><name>a</name></domain>") == "");
}

TEST_CASE("new UUIDs are version 4 and differ") {
    std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        std::string u = new_uuid();
        CHECK(std::regex_match(u, v4));
        seen.insert(u);
    }
    CHECK(seen.size() == 100);
}

TEST_CASE("the checksum tells definitions apart") {
    CHECK(definition_checksum("") == "cbf29ce484222325");   // FNV-1a 64 of nothing: its basis
    CHECK(definition_checksum("a") == "af63dc4c8601ec8c");  // the published test vector
    CHECK(definition_checksum("<memory>64</memory>") != definition_checksum("<memory>96</memory>"));
}

TEST_CASE("base64 as Ceph prints keys") {
    CHECK(ceph::base64_decode("") == std::string());
    CHECK(ceph::base64_decode("Zm9vYmFy") == std::string("foobar"));
    CHECK(ceph::base64_decode("Zm9vYg==") == std::string("foob"));
    CHECK(ceph::base64_decode("Zm9vYg") == std::string("foob"));
    CHECK(ceph::base64_decode("/+8=") == std::string("\xff\xef"));
    CHECK_FALSE(ceph::base64_decode("Zm9v!mFy"));
    CHECK_FALSE(ceph::base64_decode("Zm9vY==="));
    CHECK_FALSE(ceph::base64_decode("Z"));
}

TEST_CASE("sizes for --size and --memory") {
    CHECK(parse_size("4096", "--size") == 4096);
    CHECK(parse_size("40G", "--size") == 40ull << 30);
    CHECK(parse_size("2T", "--size") == 2ull << 40);
    CHECK_THROWS_WITH(parse_size("12Q", "--memory"),
                      "--memory 12Q: expected a positive number of bytes, or with K, M, G or T");
    CHECK_THROWS(parse_size("0", "--size"));
    CHECK_THROWS(parse_size("-1G", "--size"));
    CHECK_THROWS(parse_size("99999999999T", "--size"));
    CHECK_THROWS(parse_size("", "--size"));
}
