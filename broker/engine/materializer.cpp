#include "broker/engine/materializer.h"

#include <map>

#include "broker/engine/engine_topics.h"
#include "broker/engine/store_layout.h"

namespace passerelle::engine {

result<std::unique_ptr<materializer>> materializer::start(log::event_log& log, state::state_store& store,
                                                          materializer_options options) {
  if (options.partitions < 1) return error::reject("invalid_config", "the materializer needs partitions >= 1");
  std::vector<log::topic_partition_offset> start;
  for (const auto name : {state_changelog_topic, history_topic}) {
    const std::string topic = log::topics::full_name(options.topic_prefix, name);
    for (std::int32_t p = 0; p < options.partitions; ++p) {
      auto cp = store.checkpoint(topic, p);
      if (!cp) return std::move(cp).err();
      auto wm = log.get_watermarks({topic, p});
      if (!wm) return std::move(wm).err();
      start.push_back({topic, p, std::max(*cp, wm->low)});
    }
  }
  auto reader = log.open_reader(std::move(start));
  if (!reader) return std::move(reader).err();
  std::unique_ptr<materializer> m(new materializer(log, store, std::move(options), std::move(*reader)));
  m->thread_ = std::thread([raw = m.get()] { raw->run(); });
  return m;
}

materializer::materializer(log::event_log& log, state::state_store& store, materializer_options options,
                           std::unique_ptr<log::consumer> reader)
    : log_(log), store_(store), options_(std::move(options)), reader_(std::move(reader)) {}

materializer::~materializer() { stop(); }

void materializer::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::string materializer::last_error() const {
  const std::lock_guard lock(error_mutex_);
  return last_error_;
}

void materializer::run() {
  const std::string state_topic = log::topics::full_name(options_.topic_prefix, state_changelog_topic);
  while (!stop_.load()) {
    auto batch = reader_->poll(options_.poll_timeout, options_.max_poll_records);
    if (!batch) {
      if (batch.err().kind == error_kind::retry) continue;  // a broker hiccup: the reader resumes by itself
      const std::lock_guard lock(error_mutex_);
      last_error_ = batch.err().code + ": " + batch.err().message;
      return;
    }
    // One store batch per topic-partition, in offset order.
    std::map<log::topic_partition, std::pair<std::vector<state::mutation>, std::int64_t>> groups;
    for (const log::record& r : *batch) {
      auto m = r.topic == state_topic ? state_record_mutations(r) : history_record_mutations(r);
      if (!m) {
        const std::lock_guard lock(error_mutex_);
        last_error_ = "changelog_corrupt: " + r.topic + "[" + std::to_string(r.partition) + "]@" +
                      std::to_string(r.offset) + ": " + m.err().message;
        return;
      }
      auto& g = groups[{r.topic, r.partition}];
      for (auto& one : *m) g.first.push_back(std::move(one));
      g.second = r.offset + 1;
    }
    for (auto& [tp, g] : groups) {
      auto applied = store_.apply(tp.topic, tp.partition, g.second, g.first);
      if (!applied) {
        const std::lock_guard lock(error_mutex_);
        last_error_ = applied.err().code + ": " + applied.err().message;
        return;
      }
    }
    applied_.fetch_add(batch->size(), std::memory_order_relaxed);
  }
}

}  // namespace passerelle::engine
