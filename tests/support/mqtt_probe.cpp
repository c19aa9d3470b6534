// A process with shackd's MQTT client in it, for the tests of the last will: it connects,
// prints "connected", and on "shutdown" on stdin shuts down cleanly and prints "done".
#include <iostream>
#include <string>

#include "drivers/mqtt/client.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: mqtt_probe URI STATUS_TOPIC\n";
    return 64;
  }
  drivers::mqtt::ClientConfig c;
  c.uri = argv[1];
  c.client_id = "probe";
  c.status_topic = argv[2];
  c.keepalive = std::chrono::seconds(5);
  drivers::mqtt::Client client(c);
  client.start();
  while (true) {
    const auto e = client.poll(std::chrono::milliseconds(100));
    if (e && e->kind == drivers::mqtt::Event::Kind::connected) break;
  }
  std::cout << "connected" << std::endl;
  for (std::string line; std::getline(std::cin, line);) {
    if (line == "shutdown") {
      client.shutdown();
      std::cout << "done" << std::endl;
      return 0;
    }
  }
  return 0;
}
