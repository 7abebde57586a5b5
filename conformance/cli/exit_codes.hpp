// The exit codes of every `indexbus` subcommand (README.md lists them too).
#pragma once

namespace indexbus::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitConformance = 1;  // a case, rule or certification failed; invalid region
inline constexpr int kExitUsage = 2;        // bad arguments or input file; the message says which
inline constexpr int kExitEnvironment = 3;  // missing file or directory, permissions, I/O, no /dev/shm

}  // namespace indexbus::cli
