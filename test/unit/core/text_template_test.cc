#include "core/text_template.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using namespace storkit;

TEST_CASE("templates substitute {{name}}, with or without spaces") {
    TextTemplate t =
        TextTemplate::compile("host {{name}} at {{ ip }}; {{name}}!\n", {"ip", "name"}, "ks.in");
    CHECK(t.render({"198.18.0.5", "n1"}) == "host n1 at 198.18.0.5; n1!\n");
    CHECK(t.uses(0));
    CHECK(t.uses(1));
    std::string out = "prefix:";
    t.render_to(out, {"a", "b"});
    CHECK(out == "prefix:host b at a; b!\n");
    CHECK(TextTemplate::compile("no variables { } }}", {}, "x").render({}) ==
          "no variables { } }}");
    CHECK_FALSE(TextTemplate::compile("{{ip}}", {"ip", "name"}, "x").uses(1));
}

TEST_CASE("an unknown variable is an error naming the file, the line and the variable") {
    try {
        TextTemplate::compile("line one\nline {{ name }}\nline {{hostnme}}\n", {"name", "ip"},
                              "/etc/storkit/ks.in");
        FAIL("expected an error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) ==
              "/etc/storkit/ks.in:3: unknown variable {{hostnme}} (known: name, ip)");
    }
    CHECK_THROWS_WITH(TextTemplate::compile("a {{name", {"name"}, "t"),
                      "t:1: unclosed {{ (expected {{name}})");
    CHECK_THROWS_AS(TextTemplate::compile("{{}}", {"name"}, "t"), ConfigError);
    CHECK_THROWS_AS(TextTemplate::compile("{{na-me}}", {"na-me"}, "t"), ConfigError);
}
