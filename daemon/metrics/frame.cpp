#include "daemon/metrics/frame.hpp"

#include <bit>
#include <cstdint>
#include <string>

namespace shackd::metrics {

namespace {

// Written only when different: a frame was last read by a server thread on another core, and a
// write to a line that core holds costs a transfer of the line (a read does not). Comparing first
// keeps a fill's writes to the values that changed (the frame's strings stay as they were).
void set(std::string& dst, std::string_view src) {
  if (dst != src) dst.assign(src);
}

void set(double& dst, double src) {
  // Bit for bit: 0 and -0 render differently, and NaN never equals itself.
  if (std::bit_cast<std::uint64_t>(dst) != std::bit_cast<std::uint64_t>(src)) dst = src;
}

}  // namespace

FrameWriter& FrameWriter::family(std::string_view name, std::string_view help, Type type) {
  if (families_ > 0) close_family();
  if (families_ == out_.size()) out_.emplace_back();
  Family& f = out_[families_++];
  set(f.name, name);
  set(f.help, help);
  if (f.type != type) f.type = type;
  samples_ = 0;
  return *this;
}

FrameWriter& FrameWriter::sample(double value, std::initializer_list<Label> labels) {
  if (families_ == 0) return *this;  // no family open: a caller's mistake, nothing to add to
  auto& samples = out_[families_ - 1].samples;
  if (samples_ == samples.size()) samples.emplace_back();
  Sample& s = samples[samples_++];
  set(s.value, value);
  if (s.labels.size() != labels.size()) s.labels.resize(labels.size());
  std::size_t i = 0;
  for (const auto& [k, v] : labels) {
    set(s.labels[i].first, k);
    set(s.labels[i].second, v);  // a different text of no greater length: copied into its room
    ++i;
  }
  return *this;
}

void FrameWriter::close_family() { out_[families_ - 1].samples.resize(samples_); }

void FrameWriter::finish() {
  if (families_ > 0) close_family();
  out_.resize(families_);
}

std::shared_ptr<Frame> FramePool::take(const std::shared_ptr<const Frame>& published) {
  for (const auto& f : frames_) {
    if (f == published) continue;
    // Acquire: a scrape's reads of the frame come before its release of the count.
    if (f->readers.load(std::memory_order_acquire) == 0) return f;
  }
  auto made = std::make_shared<Frame>();
  if (frames_.size() < kMaxFrames) frames_.push_back(made);
  return made;
}

}  // namespace shackd::metrics
