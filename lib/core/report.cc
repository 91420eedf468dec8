#include "core/report.h"

#include "core/runner.h"

namespace storkit {

void Report::line(const std::string& s) {
    if (on_line)
        on_line(s);
    else
        text += s + "\n";
}

nlohmann::json Report::to_json() const {
    nlohmann::json j = {{"tool", tool},     {"version", version()}, {"changed", changed},
                        {"failed", failed}, {"msg", msg},           {"rc", rc}};
    for (auto it = data.begin(); it != data.end(); ++it) j[it.key()] = it.value();
    return j;
}

}  // namespace storkit
