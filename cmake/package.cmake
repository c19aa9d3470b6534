# What `make install` and CPack put where, and the Debian package for the target architecture
# (one .deb per architecture: cross/ and scripts/cross.sh; docs/guide.md "Raspberry Pi").
include(GNUInstallDirs)

install(TARGETS shackd RUNTIME DESTINATION bin)
install(FILES systemd/shackd.service DESTINATION lib/systemd/system)
install(FILES config/shackd.example.yaml DESTINATION /etc/shackd RENAME shackd.yaml)
file(GLOB _shackd_schema CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/schema/*.sql)
install(FILES ${_shackd_schema} DESTINATION share/shackd/schema)
install(FILES config/shackd.example.yaml DESTINATION share/doc/shackd/examples)
install(FILES README.md docs/guide.md cmake/deb/copyright DESTINATION share/doc/shackd)
install(DIRECTORY DESTINATION /var/lib/shackd)

# Debian wants the changelog and the man page gzip'ed at maximum compression, without a timestamp.
configure_file(cmake/deb/changelog.in ${PROJECT_BINARY_DIR}/deb/changelog @ONLY)
configure_file(cmake/deb/shackd.8 ${PROJECT_BINARY_DIR}/deb/shackd.8 @ONLY)
foreach(_doc changelog shackd.8)
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/deb/${_doc}.gz
    COMMAND gzip -9nfk ${PROJECT_BINARY_DIR}/deb/${_doc}
    DEPENDS ${PROJECT_BINARY_DIR}/deb/${_doc})
endforeach()
add_custom_target(deb_docs ALL DEPENDS ${PROJECT_BINARY_DIR}/deb/changelog.gz ${PROJECT_BINARY_DIR}/deb/shackd.8.gz)
install(FILES ${PROJECT_BINARY_DIR}/deb/changelog.gz DESTINATION share/doc/shackd)
install(FILES ${PROJECT_BINARY_DIR}/deb/shackd.8.gz DESTINATION share/man/man8)

# Debian's architecture names for the target.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(SHACKD_DEB_ARCH arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(SHACKD_DEB_ARCH armhf)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
  set(SHACKD_DEB_ARCH amd64)
else()
  set(SHACKD_DEB_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shackd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge controller for an off-grid solar site")
set(CPACK_PACKAGE_DESCRIPTION "shackd reads a Victron GX and a Sol-Ark inverter over Modbus,
decides every few seconds from the battery voltage which loads (Bitcoin
miners, exhaust fans, heaters) should run, and switches them through MQTT
relays (Tasmota, Shelly, ESPHome). Battery voltage is ground truth; state of
charge is derived from it and only shown. Thresholds and load profiles are
kept in a local SQLite database; Home Assistant discovers its entities.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "shackd developers <shackd@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${SHACKD_DEB_ARCH})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The runtime libraries of Debian 12 / Raspberry Pi OS bookworm that the binary links
# (tests/package/check_deb.sh checks every NEEDED library against this list), and adduser for
# the postinst. mosquitto is only recommended: the broker may run on another host.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "adduser, libc6 (>= 2.36), libgcc-s1 (>= 3.0), libstdc++6 (>= 12), libmodbus5 (>= 3.1.6), libpaho-mqtt1.3 (>= 1.3.11), libpaho-mqttpp3-1 (>= 1.2.0), libssl3 (>= 3.0.0), libsqlite3-0 (>= 3.40.0), libyaml-cpp0.7 (>= 0.7.0), libfmt9 (>= 9.1.0)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto")
# rsvg-convert, for `shackd report --out day.png` (the SVG needs nothing).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "librsvg2-bin")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/cmake/deb/conffiles
  ${PROJECT_SOURCE_DIR}/cmake/deb/postinst
  ${PROJECT_SOURCE_DIR}/cmake/deb/prerm
  ${PROJECT_SOURCE_DIR}/cmake/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
