// Creates a region with one Events lane, writes and reads one entry through the installed
// headers and library, and removes the region. Exit 0 on success.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>

#include "indexbus/events.hpp"
#include "indexbus/real_platform.hpp"
#include "indexbus/region.hpp"

int main() {
  const std::string path = "/dev/shm/indexbus-install-test-" + std::to_string(::getpid());
  const indexbus::LaneSpec lane{indexbus::LaneKind::Events, indexbus::OnFull::Block, 8, 16, 1};
  auto region = indexbus::Region::create(path, std::span(&lane, 1));
  if (!region.ok()) {
    std::fprintf(stderr, "consumer: %s\n", region.error().message.c_str());
    return 1;
  }
  (void)indexbus::Region::remove(path);
  indexbus::RealPlatform platform;
  const auto ref = indexbus::events_lane_ref(region->lane_block(0), region->lane(0));
  indexbus::EventsProducer<indexbus::RealPlatform> producer(platform, ref);
  indexbus::EventsConsumer<indexbus::RealPlatform> consumer(platform, ref);
  const char message[] = "hello";
  if (producer.try_write(std::as_bytes(std::span(message))) != indexbus::WriteStatus::Ok) return 1;
  std::array<std::byte, 16> out{};
  const auto got = consumer.try_read(out);
  if (got.status != indexbus::ReadStatus::Entry || std::memcmp(out.data(), message, sizeof(message)) != 0) {
    std::fprintf(stderr, "consumer: read back %s\n", std::string(indexbus::to_string(got.status)).c_str());
    return 1;
  }
  std::puts("consumer: wrote and read one entry through the installed package");
  return 0;
}
