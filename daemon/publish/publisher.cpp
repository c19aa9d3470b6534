#include "daemon/publish/publisher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <utility>

#include "daemon/publish/cycle_publisher.hpp"
#include "daemon/publish/mailbox.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/real_wait.hpp"

namespace shackd {

struct Publisher::Shared {
  struct Posted {
    CycleFacts facts;
    std::uint64_t seq = 0;  // its place among the messages handed over
  };
  struct Message {
    std::string topic;
    // What goes out: the text, or a miner's own word as values, rendered on this thread.
    std::variant<std::string, MinerStateFacts> body;
    bool retain = false;
    int qos = 1;
    std::uint64_t seq = 0;
  };

  std::size_t limit;

  mutable std::mutex m;
  std::condition_variable cv;  // not _any: see daemon/loop/poller.hpp; the stop wakes it through a stop_callback
  drivers::mqtt::BulkLane lane;
  LatestMailbox<Posted> mail;
  std::deque<Message> messages;
  std::uint64_t seq = 0;
  bool everything = true;  // the first view goes whole
  bool forget_all = false;
  std::set<std::string> forget_ids;
  PublisherStats stats;
  std::vector<std::string> failures;  // rendering that threw, for the core to tell (bounded)
  std::uint64_t handed = 0, done = 0;  // settle() waits for done to reach handed
  std::optional<RealClock::time_point> busy_since;
  bool threaded = false, stop = false, draining = false;
  // The drainer's own: retained messages of the queue the link refused, by topic, the newest
  // each; sent again first at the next hand-over unless a newer one for the topic came with it.
  std::map<std::string, Message> owed;

  // The drainer's own (the thread, or without one the caller under `draining`).
  CyclePublisher cycle{
      [this](const std::string& t, const std::string& p, bool retain, int qos) { return send_one(t, p, retain, qos); },
      ""};

  explicit Shared(std::size_t l) : limit(l) {}
  // True when the link took it; false when it refused it (counted) or there is no broker.
  bool send_one(const std::string& topic, const std::string& payload, bool retain, int qos);
  void send_queued(Message& msg);
  void drain(std::unique_lock<std::mutex>& l);
  void failed(const std::string& what);
  void run(std::stop_token token);
};

bool Publisher::Shared::send_one(const std::string& topic, const std::string& payload, bool retain, int qos) {
  drivers::mqtt::BulkLane l;
  {
    std::lock_guard g(m);
    l = lane;
  }
  bool taken = false, refused = false;
  try {
    // Nothing goes to a broker that is not there (not a refusal: the outage is counted and told
    // as such, and the next connect sends everything again).
    if (l.connected()) {
      taken = l.publish(topic, payload, qos, retain, kBulkWait);
      refused = !taken;  // no room in the lane's window within kBulkWait, or the client refused it
    }
  } catch (const std::exception&) {
    refused = true;
  }
  if (refused) {
    std::lock_guard g(m);
    ++stats.refused;  // the one count of refusals: <prefix>/loop's publishes_refused
  }
  return taken;
}

// One message of the ordered queue: rendered here when it came as values; a retained one the
// link refused is owed (sent again at the next hand-over). A rendering that throws (a miner's
// hostile text) is a failure of its own: the messages after it go all the same.
void Publisher::Shared::send_queued(Message& msg) {
  try {
    if (auto* facts = std::get_if<MinerStateFacts>(&msg.body)) msg.body = miner_state_json(*facts);
    const auto& payload = std::get<std::string>(msg.body);
    if (send_one(msg.topic, payload, msg.retain, msg.qos)) {
      owed.erase(msg.topic);
    } else if (msg.retain) {
      std::string topic = msg.topic;
      owed.insert_or_assign(std::move(topic), std::move(msg));
      // Bounded like the queue (the topics are ours, so this is a backstop): the oldest go, counted.
      while (owed.size() > limit) {
        auto oldest = owed.begin();
        for (auto i = owed.begin(); i != owed.end(); ++i) {
          if (i->second.seq < oldest->second.seq) oldest = i;
        }
        owed.erase(oldest);
        std::lock_guard g(m);
        ++stats.messages_dropped;
      }
    }
  } catch (const std::exception& e) {
    failed(fmt::format("publish {}: {}", msg.topic, e.what()));
  }
}

void Publisher::Shared::failed(const std::string& what) {
  std::lock_guard g(m);
  failures.push_back(what);
  if (failures.size() > 10) failures.erase(failures.begin());
}

// Sends what was handed over, in its order, until nothing waits. Called with `l` held; unlocks
// it while sending.
void Publisher::Shared::drain(std::unique_lock<std::mutex>& l) {
  if (draining) return;  // another caller is at it and goes on until nothing waits
  draining = true;
  while (!stop && (!mail.empty() || !messages.empty())) {
    std::optional<Posted> view = mail.take();
    std::deque<Message> todo;
    todo.swap(messages);
    const bool forget = std::exchange(forget_all, false);
    const std::set<std::string> ids = std::exchange(forget_ids, {});
    const std::uint64_t upto = handed;
    busy_since = RealClock::now();
    l.unlock();
    try {
      if (forget) cycle.forget();
      for (const auto& id : ids) cycle.forget_settings(id);
      // What the link refused before goes first, unless a newer message for its topic is here.
      if (!owed.empty()) {
        for (const auto& msg : todo) owed.erase(msg.topic);
        std::vector<Message> again;
        for (auto& [topic, msg] : std::exchange(owed, {})) again.push_back(std::move(msg));
        std::sort(again.begin(), again.end(), [](const Message& a, const Message& b) { return a.seq < b.seq; });
        for (auto& msg : again) send_queued(msg);
      }
      auto it = todo.begin();
      if (view) {
        for (; it != todo.end() && it->seq < view->seq; ++it) send_queued(*it);
        try {
          cycle.publish(view->facts);
        } catch (const std::exception& e) {
          failed(e.what());
        }
      }
      for (; it != todo.end(); ++it) send_queued(*it);
    } catch (const std::exception& e) {
      failed(e.what());
    } catch (...) {
      failed("an unknown exception");
    }
    l.lock();
    busy_since.reset();
    if (view) ++stats.published;
    done = upto;
  }
  draining = false;
  cv.notify_all();
}

void Publisher::Shared::run(std::stop_token token) {
  const std::stop_callback wake(token, [this] {
    std::lock_guard g(m);
    cv.notify_all();
  });
  std::unique_lock l(m);
  while (!stop && !token.stop_requested()) {
    if (mail.empty() && messages.empty()) {
      // A hand-over or the stop.
      cv.wait(l, [&] { return stop || token.stop_requested() || !mail.empty() || !messages.empty(); });
      continue;
    }
    drain(l);
  }
  // The stop's own last words, in order: what was handed over as messages (a shadow's retained
  // documents cleared, its Home Assistant entities removed) goes before the link does; the
  // cycle's view is superseded and is not. Bounded by the stop's wait (Publisher::stop): a link
  // that takes none of it leaves it. Before, a stop that came before the thread's next turn
  // dropped them (seen under ASan: the shadow's documents stayed retained after the stop).
  if (stop && !draining) {
    std::deque<Message> todo;
    todo.swap(messages);
    l.unlock();
    for (auto& msg : todo) {
      try {
        send_queued(msg);
      } catch (...) {
      }
    }
    l.lock();
  }
}

Publisher::Publisher(std::size_t message_limit) : s_(std::make_shared<Shared>(message_limit)) {}

Publisher::~Publisher() {
  if (!stopped_) stop(std::chrono::seconds(2));
}

void Publisher::set_lane(drivers::mqtt::BulkLane lane) {
  std::lock_guard g(s_->m);
  s_->lane = std::move(lane);
}

void Publisher::start_thread() {
  if (thread_.started() || stopped_) return;
  {
    std::lock_guard g(s_->m);
    s_->threaded = true;
  }
  // The thread holds the shared state too: a stop that gives up waiting leaves it whole.
  thread_ = drivers::thread::Worker("publisher", [s = s_](std::stop_token token) { s->run(std::move(token)); });
}

void Publisher::post(CycleFacts&& v) {
  {
    std::unique_lock l(s_->m);
    ++s_->stats.views;
    ++s_->handed;
    // The newest wins; what the older one asked for (everything, Home Assistant's discovery) goes on with it.
    s_->mail.put(Shared::Posted{std::move(v), ++s_->seq}, [](Shared::Posted&& older, Shared::Posted& newer) {
      newer.facts.everything = newer.facts.everything || older.facts.everything;
      if (!newer.facts.discovery) newer.facts.discovery = std::move(older.facts.discovery);
    });
    s_->stats.coalesced = s_->mail.coalesced();
    if (!s_->threaded) {
      s_->drain(l);
      return;
    }
  }
  s_->cv.notify_all();
}

void Publisher::send(std::string topic, std::string payload, bool retain, int qos) {
  queue(std::move(topic), std::move(payload), retain, qos);
}

void Publisher::send_miner(std::string topic, MinerStateFacts facts) { queue(std::move(topic), std::move(facts), true, 1); }

void Publisher::queue(std::string topic, std::variant<std::string, MinerStateFacts> body, bool retain, int qos) {
  {
    std::unique_lock l(s_->m);
    ++s_->handed;
    s_->messages.push_back({std::move(topic), std::move(body), retain, qos, ++s_->seq});
    while (s_->messages.size() > s_->limit) {
      s_->messages.pop_front();
      ++s_->stats.messages_dropped;
    }
    if (!s_->threaded) {
      s_->drain(l);
      return;
    }
  }
  s_->cv.notify_all();
}

void Publisher::send_everything() {
  std::lock_guard g(s_->m);
  s_->everything = true;
}

bool Publisher::take_everything() {
  std::lock_guard g(s_->m);
  return std::exchange(s_->everything, false);
}

void Publisher::forget() {
  std::lock_guard g(s_->m);
  s_->forget_all = true;
  s_->everything = true;
}

void Publisher::forget_settings(const std::string& id) {
  std::lock_guard g(s_->m);
  s_->forget_ids.insert(id);
}

PublisherStats Publisher::stats() const {
  std::lock_guard g(s_->m);
  PublisherStats out = s_->stats;
  if (s_->busy_since) out.busy_s = std::chrono::duration<double>(RealClock::now() - *s_->busy_since).count();
  return out;
}

std::vector<PublisherNote> Publisher::watch(rules::SteadyTime now) {
  std::vector<PublisherNote> out;
  std::vector<std::string> failures;
  {
    std::lock_guard g(s_->m);
    failures.swap(s_->failures);
  }
  for (auto& f : failures) out.push_back({PublisherNote::Kind::failure, std::move(f)});
  const PublisherStats st = stats();
  if (st.lost() != lost_seen_) {
    if (!losing_since_) {
      losing_since_ = now;
      lost_at_start_ = lost_seen_;
    }
    lost_seen_ = st.lost();
    last_loss_at_ = now;
  }
  if (!losing_since_) return out;
  if (now - *last_loss_at_ >= kAlarmAfter) {
    // A minute without a loss: the run is over (a single coalesced view never raised anything).
    if (std::exchange(alarmed_, false)) {
      out.push_back({PublisherNote::Kind::alarm_end,
                     fmt::format("publish_lost: cleared: publishing every cycle again; {} lost in this run",
                                 st.lost() - lost_at_start_)});
    }
    losing_since_.reset();
    return out;
  }
  if (!alarmed_ && now - *losing_since_ >= kAlarmAfter) {
    alarmed_ = true;
    std::string text = fmt::format(
        "publish_lost: MQTT's view of the site lags for a minute and more (the decisions and relays do not): {} cycle "
        "view(s) replaced by newer ones before they went out, {} message(s) dropped, {} publish(es) refused by the "
        "link since the start",
        st.coalesced, st.messages_dropped, st.refused);
    if (st.busy_s >= 1) text += fmt::format("; a publish has been under way for {:.0f} s", st.busy_s);
    out.push_back({PublisherNote::Kind::alarm, std::move(text)});
  }
  return out;
}

bool Publisher::settle(std::chrono::milliseconds bound) {
  std::uint64_t target = 0;
  {
    std::lock_guard g(s_->m);
    target = s_->handed;
  }
  return wait_until(
      [&] {
        std::lock_guard g(s_->m);
        return (s_->done >= target && !s_->draining) || s_->stop;
      },
      bound);
}

bool Publisher::stop(std::chrono::milliseconds bound) {
  if (stopped_) return true;
  stopped_ = true;
  {
    std::lock_guard g(s_->m);
    s_->stop = true;
  }
  s_->cv.notify_all();
  if (thread_.stop_within(bound)) return true;
  log::error("publisher: a publish did not finish within {} ms; its thread is left to finish on its own",
             bound.count());
  return false;  // it holds the shared state and its lane's link; the process ends around it
}

drivers::thread::Stopped Publisher::stop(const drivers::thread::Deadline& deadline) {
  const auto began = deadline.now();
  const auto bound = deadline.capped(kStopBound).left();
  if (stop(bound)) return drivers::thread::Stopped::end("publisher", deadline, began, true);
  return drivers::thread::Stopped::end("publisher", deadline, began, false,
                                       fmt::format("a publish did not finish within {} ms", bound.count()));
}

}  // namespace shackd
