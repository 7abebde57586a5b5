// The framing and field access must turn every broken input into a clear error: never a crash,
// never an unbounded read or allocation, never a wait past the deadline.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "indexbus/protocol/fields.hpp"
#include "indexbus/protocol/frame.hpp"

namespace indexbus::protocol {
namespace {

std::string header(std::uint32_t length) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xff);
  return out;
}

std::string frame_of(std::string_view body) { return header(static_cast<std::uint32_t>(body.size())) + std::string(body); }

struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_fd = fds[0];
    write_fd = fds[1];
  }
  ~Pipe() {
    if (read_fd >= 0) ::close(read_fd);
    close_writer();
  }
  void put(std::string_view bytes) { ASSERT_EQ(::write(write_fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  void close_writer() {
    if (write_fd >= 0) ::close(write_fd);
    write_fd = -1;
  }
};

std::uint64_t in_ms(std::uint64_t ms) { return monotonic_now_ns() + ms * 1'000'000; }

TEST(Frame, RoundTripsAnObject) {
  const Json message = {{"type", "hello"}, {"protocol", 1}, {"name", "caf\xc3\xa9"}};
  const FrameResult decoded = decode_frame(encode_frame(message));
  ASSERT_EQ(decoded.status, FrameStatus::Ok) << decoded.error;
  EXPECT_EQ(decoded.value, message);
  EXPECT_EQ(encode_frame(message).substr(0, 4), header(static_cast<std::uint32_t>(message.dump().size())));
}

TEST(Frame, RejectsBrokenBuffers) {
  struct Case {
    const char* name;
    std::string bytes;
    FrameStatus expected;
  };
  const std::string deep_array = std::string(100, '[') + std::string(100, ']');
  const std::string deep_in_object = "{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}";
  const Case cases[] = {
      {"empty stream", "", FrameStatus::Eof},
      {"short header", std::string("\x05\x00", 2), FrameStatus::Truncated},
      {"short body", header(10) + "{\"a\":", FrameStatus::Truncated},
      {"length above the limit", header(kFrameBytesMax + 1) + "{}", FrameStatus::TooLarge},
      {"length 0xffffffff", header(0xffffffffu), FrameStatus::TooLarge},
      {"length zero", header(0), FrameStatus::TooLarge},
      {"not JSON", frame_of("hello"), FrameStatus::BadJson},
      {"JSON array", frame_of("[1,2]"), FrameStatus::BadJson},
      {"JSON number", frame_of("42"), FrameStatus::BadJson},
      {"trailing garbage", frame_of("{} x"), FrameStatus::BadJson},
      {"two objects", frame_of("{}{}"), FrameStatus::BadJson},
      {"invalid UTF-8", frame_of("{\"a\":\"\xff\xfe\"}"), FrameStatus::BadJson},
      {"NUL bytes", frame_of(std::string("{\0}", 3)), FrameStatus::BadJson},
      {"nested too deep", frame_of(deep_array), FrameStatus::BadJson},
      {"nested too deep inside an object", frame_of(deep_in_object), FrameStatus::BadJson},
  };
  for (const Case& c : cases) {
    const FrameResult result = decode_frame(c.bytes);
    EXPECT_EQ(result.status, c.expected) << c.name << ": " << result.error;
    EXPECT_FALSE(result.error.empty()) << c.name;
  }
  // Brackets inside strings are not nesting.
  const std::string brackets_in_string = "{\"a\":\"" + std::string(200, '[') + "\\\"]\"}";
  EXPECT_EQ(decode_frame(frame_of(brackets_in_string)).status, FrameStatus::Ok);
}

TEST(Frame, ReadsFromAPipeAndKeepsFrameBoundaries) {
  Pipe pipe;
  pipe.put(encode_frame(Json{{"id", 1}}) + encode_frame(Json{{"id", 2}}));
  const FrameResult first = read_frame(pipe.read_fd, in_ms(1000));
  const FrameResult second = read_frame(pipe.read_fd, in_ms(1000));
  ASSERT_EQ(first.status, FrameStatus::Ok) << first.error;
  ASSERT_EQ(second.status, FrameStatus::Ok) << second.error;
  EXPECT_EQ(first.value["id"], 1);
  EXPECT_EQ(second.value["id"], 2);
  pipe.close_writer();
  EXPECT_EQ(read_frame(pipe.read_fd, in_ms(1000)).status, FrameStatus::Eof);
}

TEST(Frame, SilentPeerTimesOutAtTheDeadline) {
  Pipe pipe;
  pipe.put(header(100) + "{\"partial");  // a peer that hangs mid-frame
  const std::uint64_t start = monotonic_now_ns();
  const FrameResult result = read_frame(pipe.read_fd, start + 50'000'000);
  const std::uint64_t elapsed = monotonic_now_ns() - start;
  EXPECT_EQ(result.status, FrameStatus::Timeout) << result.error;
  EXPECT_GE(elapsed, 50'000'000u);
  EXPECT_LT(elapsed, 2'000'000'000u);
}

TEST(Frame, OversizedLengthIsRejectedWithoutWaitingForTheBody) {
  Pipe pipe;
  pipe.put(header(0x7fffffffu));
  const std::uint64_t start = monotonic_now_ns();
  const FrameResult result = read_frame(pipe.read_fd, start + 5'000'000'000u);
  EXPECT_EQ(result.status, FrameStatus::TooLarge) << result.error;
  EXPECT_LT(monotonic_now_ns() - start, 1'000'000'000u);
}

TEST(Frame, PeerClosingMidFrameIsTruncated) {
  Pipe pipe;
  pipe.put(header(20) + "{\"a\"");
  pipe.close_writer();
  EXPECT_EQ(read_frame(pipe.read_fd, in_ms(1000)).status, FrameStatus::Truncated);
}

TEST(Frame, WriteToAFullPipeHonoursTheDeadline) {
  Pipe pipe;
  ASSERT_EQ(::fcntl(pipe.write_fd, F_SETFL, O_NONBLOCK), 0);
  const Json big = {{"blob", std::string(1 << 20, 'x')}};  // more than a pipe buffer, nobody reads
  const std::uint64_t start = monotonic_now_ns();
  const auto error = write_frame(pipe.write_fd, big, start + 50'000'000);
  ASSERT_TRUE(error.has_value());
  EXPECT_LT(monotonic_now_ns() - start, 2'000'000'000u);
}

TEST(Fields, WrongTypesAndMissingFieldsNameTheField) {
  const Json message = Json::parse(R"({"id": "7", "n": -1, "s": 5, "a": {}, "ok": 1, "list": ["a", 2]})");
  auto message_of = [&](auto&& call) -> std::string {
    try {
      call();
    } catch (const ProtocolError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message_of([&] { (void)get_u64(message, "id"); }), "field 'id': expected an unsigned integer, got string");
  EXPECT_EQ(message_of([&] { (void)get_u64(message, "n"); }), "field 'n': expected an unsigned integer, got number");
  EXPECT_EQ(message_of([&] { (void)get_string(message, "s"); }), "field 's': expected a string, got number");
  EXPECT_EQ(message_of([&] { (void)get_array(message, "a"); }), "field 'a': expected an array, got object");
  EXPECT_EQ(message_of([&] { (void)get_bool_or(message, "ok", false); }), "field 'ok': expected a boolean, got number");
  EXPECT_EQ(message_of([&] { (void)get_string(message, "missing"); }), "missing field 'missing'");
  EXPECT_EQ(message_of([&] { (void)get_string_array(message, "list"); }),
            "field 'list': expected an array of strings, got number");
  EXPECT_EQ(message_of([&] { (void)get_u64(Json::array(), "x"); }), "expected a JSON object holding 'x'");
  EXPECT_EQ(get_u64_or(message, "absent", 9), 9u);
}

TEST(Fields, HexRoundTripsAndRejectsBadDigits) {
  const std::vector<std::byte> bytes{std::byte{0x00}, std::byte{0xab}, std::byte{0xff}};
  EXPECT_EQ(to_hex(bytes.data(), bytes.size()), "00abff");
  EXPECT_EQ(from_hex("00abff", 16), bytes);
  EXPECT_EQ(from_hex("00ABFF", 16), bytes);
  EXPECT_TRUE(from_hex("", 0).empty());
  EXPECT_THROW((void)from_hex("abc", 16), ProtocolError);
  EXPECT_THROW((void)from_hex("zz", 16), ProtocolError);
  EXPECT_THROW((void)from_hex("0000", 1), ProtocolError);
}

}  // namespace
}  // namespace indexbus::protocol
