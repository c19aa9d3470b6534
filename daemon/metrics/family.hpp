#pragma once
// One metric family as the exposition formats see it: a name, its help, its type, its samples.
// The collector fills them on the loop's thread; the server renders them on its own.
#include <string>
#include <utility>
#include <vector>

namespace shackd::metrics {

// A gauge, or a counter (monotonic within one process; its samples end in _total).
enum class Type { gauge, counter };

struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;  // name, value (any UTF-8: escaped when rendered)
  double value = 0;
};

struct Family {
  std::string name;  // without _total for a counter: "shackd_relay_commands"
  std::string help;
  Type type = Type::gauge;
  std::vector<Sample> samples;

  Family& add(double value, std::vector<std::pair<std::string, std::string>> labels = {}) {
    samples.push_back({std::move(labels), value});
    return *this;
  }
};

}  // namespace shackd::metrics
