# The demo site's switched loads, Tasmota relays and sensors as shackd-sim arguments: the same
# names as config/demo.yaml and tests/e2e/*.yaml. Sourced by demo.sh, soak.sh and tests/e2e/lib.sh.
# shellcheck disable=SC2034
SITE_SIM_ARGS=(
  --load primary_s21=3878 --load dump_s19_1=3250 --load heat_room_fan=60 --load heat_room_heater=1500
  --load main_room_fan=60 --load main_room_heater=1500
  --tasmota-relay primary_s21=primary_s21 --tasmota-relay dump_s19_1=dump_s19_1
  --tasmota-relay heat_room_fan=heat_room_fan --tasmota-relay heat_room_heater=heat_room_heater
  --tasmota-relay main_room_fan=main_room_fan --tasmota-relay main_room_heater=main_room_heater
  --tasmota-sensor "Heat Room=heat_room_temp" --tasmota-sensor "Main Room=main_room_temp"
)
