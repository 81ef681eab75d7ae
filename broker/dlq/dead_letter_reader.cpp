#include "broker/dlq/dead_letter_reader.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "broker/http/router.h"

namespace passerelle::dlq {

namespace {

using steady = std::chrono::steady_clock;

std::optional<std::int64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s.front() == '0')) return std::nullopt;
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::string header_value(const log::record& r, std::string_view key) {
  for (const auto& h : r.hdrs)
    if (h.key == key) return h.value;
  return {};
}

error timeout_error() {
  return error::retry("dlq_read_timeout", "reading the dead-letter topic took longer than allowed; try again");
}

// The cursor: per partition, the exclusive upper offset of what remains to list.
using cursor_ends = std::map<std::int32_t, std::int64_t>;

std::string encode_cursor(const cursor_ends& ends) {
  std::string out = "c1";
  for (const auto& [p, end] : ends) out += "_" + std::to_string(p) + "-" + std::to_string(end);
  return out;
}

std::optional<cursor_ends> decode_cursor(std::string_view c) {
  if (!c.starts_with("c1")) return std::nullopt;
  c.remove_prefix(2);
  cursor_ends ends;
  while (!c.empty()) {
    if (c.front() != '_') return std::nullopt;
    c.remove_prefix(1);
    const auto next = c.find('_');
    const auto item = c.substr(0, next);
    c = next == std::string_view::npos ? std::string_view() : c.substr(next);
    const auto pos = parse_dead_letter_id(item);
    if (!pos || ends.count(pos->partition) != 0) return std::nullopt;
    ends.emplace(pos->partition, pos->offset);
  }
  return ends;
}

dead_letter_summary summarise(const log::record& r) {
  dead_letter_summary s;
  s.id = format_dead_letter_id(r.partition, r.offset);
  s.received_at_ms = r.timestamp_ms;
  v1::DeadLetter dl;
  if (!dl.ParseFromString(r.value)) {
    // Shown rather than hidden: something wrote a record that is not a DeadLetter into the topic.
    s.reason_code = "undecodable_dead_letter";
    s.reason_message = "the record is not a passerelle.v1.DeadLetter";
    s.body_bytes = r.value.size();
    return s;
  }
  if (dl.has_received_at()) {
    s.received_at_ms = google::protobuf::util::TimeUtil::TimestampToMilliseconds(dl.received_at());
  }
  s.connector = dl.connector();
  s.account = dl.account();
  s.reason_code = dl.reason_code();
  s.reason_message = dl.reason_message();
  s.body_bytes = dl.body().size();
  return s;
}

}  // namespace

std::optional<record_position> parse_dead_letter_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto p = parse_decimal(id.substr(0, dash));
  const auto o = parse_decimal(id.substr(dash + 1));
  if (!p || !o || *p > INT32_MAX) return std::nullopt;
  return record_position{static_cast<std::int32_t>(*p), *o};
}

std::string format_dead_letter_id(std::int32_t partition, std::int64_t offset) {
  return std::to_string(partition) + "-" + std::to_string(offset);
}

dead_letter_reader::dead_letter_reader(log::event_log& log, reader_options options)
    : log_(log), options_(std::move(options)) {
  options_.default_limit =
      std::clamp<std::size_t>(options_.default_limit, 1, std::max<std::size_t>(1, options_.max_limit));
  options_.poll_batch = std::max<std::size_t>(1, options_.poll_batch);
}

result<std::int32_t> dead_letter_reader::partition_count() const {
  auto topics = log_.list_topics();
  if (!topics) return std::move(topics).err();
  for (const auto& t : *topics) {
    if (t.name == options_.topic) return t.partitions;
  }
  return 0;
}

result<dead_letter_page> dead_letter_reader::list(std::optional<std::size_t> limit_opt, std::string_view cursor) const {
  const std::size_t limit = limit_opt.value_or(options_.default_limit);
  if (limit == 0 || limit > options_.max_limit) {
    return error::reject("bad_limit", "limit: expected an integer from 1 to " + std::to_string(options_.max_limit));
  }
  std::optional<cursor_ends> from_cursor;
  if (!cursor.empty()) {
    from_cursor = decode_cursor(cursor);
    if (!from_cursor) return error::reject("bad_cursor", "cursor: not a cursor this API returned");
  }
  const auto deadline = steady::now() + options_.deadline;

  auto partitions = partition_count();
  if (!partitions) return std::move(partitions).err();

  // Per partition: its low watermark, the window read [start, end) and the summaries read, ascending.
  struct window {
    std::int64_t low = 0;
    std::int64_t end = 0;
    std::vector<dead_letter_summary> items;
    std::vector<std::int64_t> offsets;
  };
  std::map<std::int32_t, window> windows;
  for (std::int32_t p = 0; p < *partitions; ++p) {
    auto wm = log_.get_watermarks({options_.topic, p});
    if (!wm) return std::move(wm).err();
    window w;
    w.low = wm->low;
    w.end = wm->high;
    if (from_cursor) {
      // A partition the cursor does not name was created after the first page: its records are newer.
      const auto it = from_cursor->find(p);
      w.end = it == from_cursor->end() ? w.low : std::clamp(it->second, w.low, wm->high);
    }
    windows.emplace(p, std::move(w));
  }

  for (auto& [p, w] : windows) {
    const std::int64_t start = std::max(w.low, w.end - static_cast<std::int64_t>(limit));
    if (start >= w.end) continue;
    auto reader = log_.open_reader({{options_.topic, p, start}});
    if (!reader) return std::move(reader).err();
    std::int64_t next = start;
    while (next < w.end) {
      if (steady::now() >= deadline) return timeout_error();
      auto batch = (*reader)->poll(options_.poll_timeout, options_.poll_batch);
      if (!batch) return std::move(batch).err();
      if (batch->empty()) break;  // a gap at the end (e.g. transaction markers): nothing more to read
      for (const auto& r : *batch) {
        if (r.partition != p || r.offset < next) continue;
        if (r.offset >= w.end) {
          next = w.end;
          break;
        }
        w.items.push_back(summarise(r));
        w.offsets.push_back(r.offset);
        next = r.offset + 1;
      }
    }
  }

  // Merge the windows newest first, taking from the top of each partition: what a partition gives is always a
  // suffix of its window, so its new cursor position is the lowest offset taken.
  dead_letter_page page;
  std::map<std::int32_t, std::size_t> remaining;  // items not yet taken per partition
  for (const auto& [p, w] : windows) remaining[p] = w.items.size();
  while (page.items.size() < limit) {
    std::optional<std::int32_t> best;
    for (const auto& [p, n] : remaining) {
      if (n == 0) continue;
      if (!best || windows[p].items[n - 1].received_at_ms > windows[*best].items[remaining[*best] - 1].received_at_ms) {
        best = p;
      }
    }
    if (!best) break;
    auto& n = remaining[*best];
    auto& w = windows[*best];
    page.items.push_back(std::move(w.items[n - 1]));
    w.end = w.offsets[n - 1];
    --n;
  }
  // Partitions whose window was not fully taken keep their end at the lowest taken offset (set above); a window
  // that gave nothing keeps its end. Anything left below an end remains for the next page.
  cursor_ends ends;
  bool more = false;
  for (const auto& [p, w] : windows) {
    ends[p] = w.end;
    more = more || w.end > w.low;
  }
  if (more) page.next_cursor = encode_cursor(ends);
  return page;
}

result<dead_letter_entry> dead_letter_reader::get(std::string_view id) const {
  const auto not_found = [&] {
    return error::not_found("dead_letter_not_found", "no dead letter \"" + std::string(id.substr(0, 64)) + "\"");
  };
  const auto pos = parse_dead_letter_id(id);
  if (!pos) return not_found();
  auto partitions = partition_count();
  if (!partitions) return std::move(partitions).err();
  if (pos->partition >= *partitions) return not_found();
  auto wm = log_.get_watermarks({options_.topic, pos->partition});
  if (!wm) return std::move(wm).err();
  if (pos->offset < wm->low || pos->offset >= wm->high) return not_found();

  const auto deadline = steady::now() + options_.deadline;
  auto reader = log_.open_reader({{options_.topic, pos->partition, pos->offset}});
  if (!reader) return std::move(reader).err();
  std::size_t scanned = 0;
  while (scanned < options_.max_scan) {
    if (steady::now() >= deadline) return timeout_error();
    auto batch = (*reader)->poll(options_.poll_timeout, 1);
    if (!batch) return std::move(batch).err();
    if (batch->empty()) return not_found();
    for (auto& r : *batch) {
      ++scanned;
      if (r.partition != pos->partition || r.offset < pos->offset) continue;
      if (r.offset > pos->offset) return not_found();  // the offset is not a record (a gap)
      dead_letter_entry e;
      e.id = format_dead_letter_id(r.partition, r.offset);
      e.partition = r.partition;
      e.offset = r.offset;
      if (!e.input.letter.ParseFromString(r.value)) {
        return error::reject("undecodable_dead_letter", "record " + e.id + " is not a passerelle.v1.DeadLetter");
      }
      e.input.platform_topic = header_value(r, "platform-topic");
      for (const auto& h : e.input.letter.headers()) {
        std::string key = h.key();
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (key == "traceparent") e.traceparent = http::valid_traceparent(h.value()).value_or("");
      }
      return e;
    }
  }
  return not_found();
}

}  // namespace passerelle::dlq
