# shellcheck shell=bash
# The demo site on this machine, shared by scripts/demo.sh, scripts/soak.sh and tests/e2e/lib.sh:
# a throwaway Mosquitto on loopback, shackd-sim with the site's loads, relays and sensors, and a
# shackd config made from a template with this run's ports. Sourced; callers keep their own
# cleanup (every function here reports the pid it started).

# The demo site's switched loads, Tasmota relays and sensors as shackd-sim arguments: the same
# names as config/demo.yaml and tests/e2e/*.yaml.
# shellcheck disable=SC2034
SITE_SIM_ARGS=(
  --load primary_s21=3878 --load dump_s19_1=3250 --load heat_room_fan=60 --load heat_room_heater=1500
  --load main_room_fan=60 --load main_room_heater=1500
  --tasmota-relay primary_s21=primary_s21 --tasmota-relay dump_s19_1=dump_s19_1
  --tasmota-relay heat_room_fan=heat_room_fan --tasmota-relay heat_room_heater=heat_room_heater
  --tasmota-relay main_room_fan=main_room_fan --tasmota-relay main_room_heater=main_room_heater
  --tasmota-sensor "Heat Room=heat_room_temp" --tasmota-sensor "Main Room=main_room_temp"
)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# site_broker DIR PORT: mosquitto on 127.0.0.1:PORT only (anonymous, no persistence: a restart
# forgets retained messages, as a broker without a store would), config and log in DIR; the lines
# of SITE_BROKER_CONF, if set, added to its config (a test's queue limits).
# SITE_BROKER_PID is its pid. Returns 1 when it does not accept connections within 5 s.
site_broker() {
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n%s\n' "$2" "${SITE_BROKER_CONF:-}" >"$1/mosquitto.conf"
  /usr/sbin/mosquitto -c "$1/mosquitto.conf" >>"$1/mosquitto.log" 2>&1 &
  SITE_BROKER_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    (echo >/dev/tcp/127.0.0.1/"$2") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# site_sim SIM_BINARY DIR MQTT_PORT [shackd-sim args...]: the GX and the Sol-Ark on free loopback
# ports, the site's relays and sensors on the broker. Commands go in through the fifo DIR/sim.in,
# held open on fd SITE_SIM_FD (site_sim_cmd writes one); the output is DIR/sim.out. Sets
# SITE_SIM_PID, SITE_VICTRON_PORT and SITE_SOLARK_PORT. Returns 1 when it is not ready in 10 s.
site_sim() {
  local bin=$1 dir=$2 mqtt_port=$3 i ready=
  shift 3
  rm -f "$dir/sim.in"
  mkfifo "$dir/sim.in"
  "$bin" --victron-port 0 --solark-port 0 --mqtt "tcp://127.0.0.1:$mqtt_port" "${SITE_SIM_ARGS[@]}" "$@" \
    <"$dir/sim.in" >"$dir/sim.out" 2>&1 &
  SITE_SIM_PID=$!
  exec {SITE_SIM_FD}>"$dir/sim.in"
  for ((i = 0; i < 200; i++)); do
    grep -q '^mqtt connected' "$dir/sim.out" 2>/dev/null && ready=$(grep '^ready' "$dir/sim.out") && break
    sleep 0.05
  done
  [[ -n $ready ]] || return 1
  SITE_VICTRON_PORT=$(sed -E 's/.*victron=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
  SITE_SOLARK_PORT=$(sed -E 's/.*solark=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
}
site_sim_cmd() { echo "$*" >&"$SITE_SIM_FD"; }

# site_config TEMPLATE DB MQTT_PORT [sed args...]: the template (config/demo.yaml or a test's) with
# ${DB}, ${VICTRON_PORT}, ${SOLARK_PORT} and ${MQTT_PORT} filled in, on stdout; the extra sed
# arguments change what a caller needs (timeouts stretched for faketime, a test's schedule).
site_config() {
  local template=$1 db=$2 mqtt_port=$3
  shift 3
  sed -e "s|\${DB}|$db|" -e "s|\${VICTRON_PORT}|$SITE_VICTRON_PORT|" -e "s|\${SOLARK_PORT}|$SITE_SOLARK_PORT|" \
    -e "s|\${MQTT_PORT}|$mqtt_port|" "$@" "$template"
}
