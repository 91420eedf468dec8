// The template renderer: install templates and kernel arguments, with odd, unterminated or
// nested variables. Compiles or refuses with a ConfigError naming the line; what compiles
// renders, and a template without variables renders to itself.
#include "core/text_template.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text = storkit::fuzz::text_of(data, size);
    std::vector<std::string> names = {"name", "ip", "repo_url", "ks_url", "a.b", "x-y", ""};
    std::vector<std::string_view> values = {
        "node1", "198.18.0.9", "http://198.18.0.1/r", "{{name}}", "", "}}", "{{"};
    storkit::fuzz::refusal_ok([&] {
        storkit::TextTemplate t = storkit::TextTemplate::compile(text, names, "fuzz.tmpl");
        std::string out = t.render(values);
        if (text.find("{{") == std::string::npos && out != text) __builtin_trap();
    });
    return 0;
}
