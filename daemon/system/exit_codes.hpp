#pragma once
// How shackd ends, as sysexits.h codes, so scripts and systemd can tell failures apart.

namespace shackd {

constexpr int kExOk = 0;
constexpr int kExUsage = 64;
constexpr int kExDataErr = 65;
constexpr int kExNoInput = 66;
constexpr int kExUnavailable = 69;
constexpr int kExSoftware = 70;
constexpr int kExIoErr = 74;
constexpr int kExTempFail = 75;
constexpr int kExConfig = 78;

}  // namespace shackd
