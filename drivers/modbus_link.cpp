#include "drivers/modbus_link.hpp"

#include <modbus.h>
#include <netdb.h>
#include <arpa/inet.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace drivers {

namespace {

// modbus_strerror() uses the MT-unsafe strerror() (docs/protocols.md §4.2): format errno ourselves.
std::string errno_text(int e) {
  if (e > MODBUS_ENOBASE && e <= MODBUS_ENOBASE + 0x0B) {
    return std::string("exception: ") + exception_name(e - MODBUS_ENOBASE);
  }
  switch (e) {
    case EMBBADCRC: return "invalid CRC";
    case EMBBADDATA: return "invalid data (a late or foreign reply)";
    case EMBBADEXC: return "invalid exception code";
    case EMBMDATA: return "too many registers requested";
    case EMBBADSLAVE: return "reply from the wrong unit";
    default: break;
  }
  char buf[128];
  return std::string(strerror_r(e, buf, sizeof buf));
}

// modbus_new_tcp takes a dotted quad only; resolve a host name first.
std::string resolve_ipv4(const std::string& host) {
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) == 1) return host;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return host;
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf);
  freeaddrinfo(res);
  return buf;
}

}  // namespace

const char* exception_name(int code) {
  switch (code) {
    case 0x01: return "0x01 illegal function";
    case 0x02: return "0x02 illegal data address";
    case 0x03: return "0x03 illegal data value";
    case 0x04: return "0x04 server device failure";
    case 0x05: return "0x05 acknowledge";
    case 0x06: return "0x06 server device busy";
    case 0x08: return "0x08 memory parity error";
    case 0x0A: return "0x0A gateway path unavailable (no service of that kind at this unit id)";
    case 0x0B: return "0x0B gateway target device failed to respond";
    default: return "unknown exception";
  }
}

std::string describe(const Transport& t) {
  if (const auto* tcp = std::get_if<TcpTransport>(&t)) return "tcp " + tcp->host + ":" + std::to_string(tcp->port);
  const auto& rtu = std::get<RtuTransport>(t);
  return "rtu " + rtu.device + " " + std::to_string(rtu.baud) + " " + std::to_string(rtu.data_bits) + rtu.parity +
         std::to_string(rtu.stop_bits);
}

ModbusLink::ModbusLink(Transport transport, std::chrono::milliseconds timeout)
    : transport_(std::move(transport)), timeout_(timeout) {}

ModbusLink::~ModbusLink() { close(); }

void ModbusLink::close() {
  if (ctx_) {
    modbus_close(ctx_);
    modbus_free(ctx_);
    ctx_ = nullptr;
  }
  connected_ = false;
}

bool ModbusLink::connect(std::string& error) {
  close();
  if (const auto* tcp = std::get_if<TcpTransport>(&transport_)) {
    ctx_ = modbus_new_tcp(resolve_ipv4(tcp->host).c_str(), tcp->port);
  } else {
    const auto& rtu = std::get<RtuTransport>(transport_);
    ctx_ = modbus_new_rtu(rtu.device.c_str(), rtu.baud, rtu.parity, rtu.data_bits, rtu.stop_bits);
  }
  if (!ctx_) {
    error = describe(transport_) + ": cannot create a Modbus context: " + errno_text(errno);
    return false;
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count();
  modbus_set_response_timeout(ctx_, static_cast<std::uint32_t>(us / 1000000), static_cast<std::uint32_t>(us % 1000000));
  const auto byte_us = std::chrono::duration_cast<std::chrono::microseconds>(byte_timeout_).count();
  modbus_set_byte_timeout(ctx_, static_cast<std::uint32_t>(byte_us / 1000000), static_cast<std::uint32_t>(byte_us % 1000000));
  modbus_set_error_recovery(ctx_, MODBUS_ERROR_RECOVERY_NONE);
  if (modbus_connect(ctx_) == -1) {
    error = describe(transport_) + ": connect failed: " + errno_text(errno);
    close();
    return false;
  }
  connected_ = true;
  return true;
}

ReadResult ModbusLink::failed(const std::string& what) {
  const int e = errno;
  ReadResult r;
  r.error = what + ": " + errno_text(e);
  if (e > MODBUS_ENOBASE && e <= MODBUS_ENOBASE + 0x0B) {
    r.status = ReadStatus::exception;
    r.exception_code = e - MODBUS_ENOBASE;
    return r;
  }
  // Anything else leaves the stream in an unknown state (a late reply would be read as the
  // answer to the next request): close, and let the caller reconnect.
  r.status = e == ETIMEDOUT ? ReadStatus::timeout : ReadStatus::link_error;
  close();
  return r;
}

ReadResult ModbusLink::read(int unit, std::uint16_t address, std::uint16_t count, std::uint16_t* dest,
                            RegisterSpace space) {
  if (!connected_) return {ReadStatus::link_error, 0, "not connected"};
  modbus_set_slave(ctx_, unit);
  const bool input = space == RegisterSpace::input;
  const int got = input ? modbus_read_input_registers(ctx_, address, count, dest)
                        : modbus_read_registers(ctx_, address, count, dest);
  if (got == count) return {};
  return failed("unit " + std::to_string(unit) + (input ? " input registers " : " registers ") +
                std::to_string(address) + "+" + std::to_string(count));
}

void ModbusLink::set_timeouts(std::chrono::milliseconds response, std::chrono::milliseconds byte) {
  // libmodbus takes a zero timeout as "wait for ever" for the byte timeout: at least 1 ms.
  timeout_ = std::max(response, std::chrono::milliseconds(1));
  byte_timeout_ = std::max(byte, std::chrono::milliseconds(1));
  if (!ctx_) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count();
  modbus_set_response_timeout(ctx_, static_cast<std::uint32_t>(us / 1000000), static_cast<std::uint32_t>(us % 1000000));
  const auto byte_us = std::chrono::duration_cast<std::chrono::microseconds>(byte_timeout_).count();
  modbus_set_byte_timeout(ctx_, static_cast<std::uint32_t>(byte_us / 1000000), static_cast<std::uint32_t>(byte_us % 1000000));
}

ReadResult ModbusLink::read_framed(int unit, std::uint16_t address, std::uint16_t* dest, RegisterSpace space) {
  if (!connected_) return {ReadStatus::link_error, 0, "not connected"};
  if (!std::holds_alternative<TcpTransport>(transport_)) return read(unit, address, 1, dest, space);
  const bool input = space == RegisterSpace::input;
  const std::string what = "unit " + std::to_string(unit) + (input ? " input register " : " register ") + std::to_string(address);
  const std::uint8_t function = input ? MODBUS_FC_READ_INPUT_REGISTERS : MODBUS_FC_READ_HOLDING_REGISTERS;
  // Unit, function, address, quantity 1 (Modbus Application Protocol v1.1b3 §6.3, §6.4).
  const std::uint8_t req[] = {static_cast<std::uint8_t>(unit), function, static_cast<std::uint8_t>(address >> 8),
                              static_cast<std::uint8_t>(address & 0xFF), 0, 1};
  if (modbus_send_raw_request(ctx_, req, sizeof req) == -1) return failed(what);
  std::uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
  const int n = modbus_receive_confirmation(ctx_, rsp);
  if (n == -1) return failed(what);
  // The MBAP header (Modbus Messaging on TCP/IP Implementation Guide v1.0b §3.1.3): transaction
  // id, protocol id 0, the length of what follows it (the unit id and the PDU), the unit id.
  const auto word = [&](int at) { return static_cast<unsigned>(rsp[at] << 8 | rsp[at + 1]); };
  std::string wrong;
  if (n < 9) {
    wrong = fmt::format("a reply of {} bytes", n);
  } else if (word(0) != 0 || word(2) != 0) {
    wrong = fmt::format("transaction id {} and protocol id {} (asked 0 and 0)", word(0), word(2));
  } else if (word(4) != static_cast<unsigned>(n - 6)) {
    wrong = fmt::format("its MBAP length says {} bytes follow, {} came", word(4), n - 6);
  } else if (rsp[6] != static_cast<std::uint8_t>(unit)) {
    wrong = fmt::format("the reply of unit {}", rsp[6]);
  } else if (rsp[7] == (function | 0x80) && n == 9) {
    ReadResult r{ReadStatus::exception, rsp[8], what + ": exception: " + exception_name(rsp[8])};
    return r;
  } else if (rsp[7] != function || rsp[8] != 2 || n != 11) {
    wrong = fmt::format("function {} with {} bytes of data in {} (asked function {} for 2)", rsp[7], rsp[8], n, function);
  } else {
    *dest = static_cast<std::uint16_t>(word(9));
    return {};
  }
  close();  // what follows on the stream is not to be trusted
  return {ReadStatus::link_error, 0, what + ": a reply that does not match its request: " + wrong};
}

ReadResult ModbusLink::write(int unit, std::uint16_t address, std::uint16_t value, bool multiple) {
  if (!connected_) return {ReadStatus::link_error, 0, "not connected"};
  modbus_set_slave(ctx_, unit);
  if (multiple ? modbus_write_registers(ctx_, address, 1, &value) == 1 : modbus_write_register(ctx_, address, value) == 1) {
    return {};
  }
  return failed("unit " + std::to_string(unit) + " write register " + std::to_string(address));
}

}  // namespace drivers
