#pragma once
// One libmodbus connection (TCP, or RTU on a serial port) with shackd's own recovery.
//
// libmodbus's MODBUS_ERROR_RECOVERY_LINK loops close/connect forever inside a send once the
// peer is gone (docs/protocols.md §4.3, verified on Debian 12), which would hang a poll. So recovery
// is NONE, and the link classifies each failure: a Modbus exception leaves the connection up;
// a reset, a broken pipe, a bad frame or a timeout closes it, to be reopened by the caller.
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "drivers/registers.hpp"

struct _modbus;  // libmodbus's context; its header stays out of ours

namespace drivers {

struct TcpTransport {
  std::string host = "127.0.0.1";  // an IPv4 address or a host name
  int port = 502;
  bool operator==(const TcpTransport&) const = default;
};
struct RtuTransport {
  std::string device = "/dev/ttyUSB0";
  int baud = 9600;
  char parity = 'N';  // N, E or O
  int data_bits = 8;
  int stop_bits = 1;
  bool operator==(const RtuTransport&) const = default;
};
using Transport = std::variant<TcpTransport, RtuTransport>;
std::string describe(const Transport& t);  // "tcp 127.0.0.1:502", "rtu /dev/ttyUSB0 9600 8N1"

enum class ReadStatus {
  ok,
  exception,   // the device answered with a Modbus exception; the link is fine
  timeout,     // no answer in time; the link was closed
  link_error,  // reset, broken pipe, refused, bad frame; the link was closed
};

struct ReadResult {
  ReadStatus status = ReadStatus::ok;
  int exception_code = 0;  // 0x02 illegal address, 0x0A gateway path unavailable, ...
  std::string error;       // for people
};

class ModbusLink {
 public:
  ModbusLink(Transport transport, std::chrono::milliseconds timeout);
  ~ModbusLink();
  ModbusLink(const ModbusLink&) = delete;
  ModbusLink& operator=(const ModbusLink&) = delete;

  bool connected() const { return connected_; }
  // Bounded by the timeout (libmodbus uses the response timeout for connect too).
  bool connect(std::string& error);
  void close();
  // FC3 (holding) or FC4 (input), `count` <= 125 registers into `dest`.
  ReadResult read(int unit, std::uint16_t address, std::uint16_t count, std::uint16_t* dest,
                  RegisterSpace space = RegisterSpace::holding);
  // One register read (FC3 or FC4) whose whole frame is checked against its request, for `probe`,
  // which judges a server it does not know yet (issue 56). libmodbus reads a TCP reply by its
  // function code and byte count and checks neither the MBAP header's length field nor its unit
  // id (libmodbus 3.1.6, Debian 12: _modbus_receive_msg, _modbus_tcp_check_integrity): a frame
  // whose length lies was read as valid. Here the request goes out raw (modbus_send_raw_request:
  // transaction id 0) and the reply is taken whole (modbus_receive_confirmation) and checked: its
  // transaction and protocol ids, its length field against the bytes that came, its unit id, its
  // function and byte count. A reply that does not match is no value: a link_error whose `error`
  // says why, and the link closed (what follows on the stream is not to be trusted). On RTU (its
  // CRC checked by libmodbus) this is read().
  ReadResult read_framed(int unit, std::uint16_t address, std::uint16_t* dest, RegisterSpace space = RegisterSpace::holding);
  // The time a reply may take from now on (its first byte within `response`, each later part
  // within `byte`): the caller's deadline kept, a connect included.
  void set_timeouts(std::chrono::milliseconds response, std::chrono::milliseconds byte);
  // One register: function 6, or 16 with one register (`multiple`) for devices that only take
  // 16. Only shackd's explicit write options call this; the read path never does.
  ReadResult write(int unit, std::uint16_t address, std::uint16_t value, bool multiple = false);

  const Transport& transport() const { return transport_; }

 private:
  ReadResult failed(const std::string& what);  // classifies errno after a failed call

  Transport transport_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds byte_timeout_{500};  // libmodbus's default
  _modbus* ctx_ = nullptr;
  bool connected_ = false;
};

const char* exception_name(int code);  // "gateway path unavailable"

}  // namespace drivers
