#pragma once
// One cycle's families as the server serves them (a frame), how the loop fills one without
// allocating, and the few frames the loop fills in turn.
//
// Why: building ~120 series afresh each cycle (each name, help text and label a new string, and
// the old frame's freed on the loop's thread) cost the loop about 0.1 ms a cycle, more than the
// rest of a simulated cycle (bench/metrics_scrape, 2026-11-26). A frame is now filled in place:
// the strings and vectors of the last time it was filled are assigned again, which allocates
// nothing once a site's series are known.
#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/metrics/family.hpp"

namespace shackd::metrics {

struct Frame {
  std::vector<Family> families;
  // Scrapes rendering this frame now: the server adds one, under its lock, only to the frame it
  // holds as the newest, and takes it off (release) when done; the loop refills a frame only when
  // it reads 0 (acquire) and it is no longer the newest. Mutable: the server holds const frames.
  mutable std::atomic<int> readers{0};
};

using Label = std::pair<std::string_view, std::string_view>;

// Fills `out` in the order its calls come, reusing what is there. The collector opens the same
// families in the same order every time, with or without samples (a family without samples is
// announced alone): a site's families then stay in place and only their samples' values change.
// Another order is still filled right, only with more copying.
class FrameWriter {
 public:
  explicit FrameWriter(std::vector<Family>& out) : out_(out) {}
  FrameWriter(const FrameWriter&) = delete;
  FrameWriter& operator=(const FrameWriter&) = delete;
  ~FrameWriter() { finish(); }

  FrameWriter& family(std::string_view name, std::string_view help, Type type);
  FrameWriter& sample(double value, std::initializer_list<Label> labels = {});
  // The samples of the open family so far.
  std::size_t samples() const { return samples_; }
  // Drops what the last fill had beyond this one (a series gone, a family gone).
  void finish();

 private:
  void close_family();
  std::vector<Family>& out_;
  std::size_t families_ = 0;  // opened so far
  std::size_t samples_ = 0;   // written into the open one
};

// The frames the loop fills in turn: one it fills, the server's newest, and those scrapes are
// still rendering (two workers: at most two). A frame is taken again only when no scrape reads it
// and the server no longer holds it as its newest. Bounded: past kMaxFrames (readers stuck in a
// retired server), a frame is made for one use and not kept.
class FramePool {
 public:
  static constexpr std::size_t kMaxFrames = 6;
  // A frame to fill; `published` is the frame the server holds as its newest (not to be touched).
  std::shared_ptr<Frame> take(const std::shared_ptr<const Frame>& published);
  // A new server: the old one may still serve its newest frame, so nothing is reused from before.
  void clear() { frames_.clear(); }
  std::size_t size() const { return frames_.size(); }

 private:
  std::vector<std::shared_ptr<Frame>> frames_;
};

}  // namespace shackd::metrics
