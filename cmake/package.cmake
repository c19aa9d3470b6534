# What `make install` and CPack put where, and the Debian package for the target architecture
# (one .deb per architecture: cross/ and scripts/cross.sh; docs/guide.md "Raspberry Pi").
include(GNUInstallDirs)

# The Debian suite the package is for: a cross build's sysroot says (scripts/cross-sysroot.sh
# writes .shackd-suite), a native build is for the host's own. It goes into the version (0.2.0-1~deb13), so
# that a Pi's owner and apt can tell the packages apart, and a ~deb12 sorts below a ~deb13.
if(NOT SHACKD_DEB_SUITE)
  if(SHACKD_SYSROOT AND EXISTS "${SHACKD_SYSROOT}/.shackd-suite")
    file(STRINGS "${SHACKD_SYSROOT}/.shackd-suite" SHACKD_DEB_SUITE LIMIT_COUNT 1)
  elseif(EXISTS /etc/os-release)
    file(STRINGS /etc/os-release _shackd_codename REGEX "^VERSION_CODENAME=")
    string(REGEX REPLACE "^VERSION_CODENAME=\"?([^\"]*)\"?$" "\\1" SHACKD_DEB_SUITE "${_shackd_codename}")
  endif()
endif()
set(SHACKD_DEB_SUITE "${SHACKD_DEB_SUITE}" CACHE STRING "Debian suite the package is for (bookworm, trixie)")
if(SHACKD_DEB_SUITE STREQUAL "bookworm")
  set(SHACKD_DEB_RELEASE "1~deb12")
elseif(SHACKD_DEB_SUITE STREQUAL "trixie")
  set(SHACKD_DEB_RELEASE "1~deb13")
else()
  set(SHACKD_DEB_RELEASE "1")
endif()
set(SHACKD_DEB_DISTRIBUTION "${SHACKD_DEB_SUITE}")
if(NOT SHACKD_DEB_DISTRIBUTION MATCHES "^(bookworm|trixie)$")
  set(SHACKD_DEB_DISTRIBUTION unstable)
endif()
set(SHACKD_DEB_VERSION "${PROJECT_VERSION}-${SHACKD_DEB_RELEASE}")

# `cpack` and `cmake --install` package what is built and build nothing more: a package-only
# tree (scripts/cross.sh --package) builds shackd and shackd-sim alone, not the test suites.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

# shackd-sim too: "Try your site first" (docs/guide.md) runs an owner's config against it on the Pi.
install(TARGETS shackd shackd-sim RUNTIME DESTINATION bin)
install(FILES systemd/shackd.service DESTINATION lib/systemd/system)
install(FILES config/shackd.example.yaml DESTINATION /etc/shackd RENAME shackd.yaml)
file(GLOB _shackd_schema CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/schema/*.sql)
install(FILES ${_shackd_schema} DESTINATION share/shackd/schema)
install(FILES config/shackd.example.yaml DESTINATION share/doc/shackd/examples)
# A fleet's files (docs/guide.md, Many sites): the site broker's bridge and Prometheus' rules.
install(FILES contrib/mosquitto/shackd-uplink.conf contrib/prometheus/shackd-rules.yml
        contrib/prometheus/shackd-rules.test.yml contrib/grafana/shackd-fleet.json DESTINATION share/doc/shackd/examples)
install(FILES README.md docs/guide.md DESTINATION share/doc/shackd)
install(DIRECTORY DESTINATION /var/lib/shackd)

# debian/ is the source package (dpkg-buildpackage, debian/rules sets SHACKD_DEBHELPER): debhelper
# installs the changelog and the copyright and writes the systemd part of the maintainer scripts.
# CPack's package (the cross builds) takes the same files from debian/, the changelog's version
# made the suite's (0.2.0-1~deb13) and the scripts' #DEBHELPER# filled from cmake/deb/.
option(SHACKD_DEBHELPER "Installed by debian/rules: leave the changelog and copyright to debhelper" OFF)
if(NOT SHACKD_DEBHELPER)
  install(FILES debian/copyright DESTINATION share/doc/shackd)
endif()
file(READ ${PROJECT_SOURCE_DIR}/debian/changelog _shackd_changelog)
string(REGEX REPLACE "^shackd \\([^)]*\\) [a-z]+;" "shackd (${SHACKD_DEB_VERSION}) ${SHACKD_DEB_DISTRIBUTION};"
       _shackd_changelog "${_shackd_changelog}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/deb/changelog CONTENT "${_shackd_changelog}" @ONLY)
foreach(_script postinst postrm)
  file(READ ${PROJECT_SOURCE_DIR}/debian/shackd.${_script} _shackd_script)
  file(READ ${PROJECT_SOURCE_DIR}/cmake/deb/${_script}-systemd _shackd_snippet)
  string(REPLACE "#DEBHELPER#" "${_shackd_snippet}" _shackd_script "${_shackd_script}")
  file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/deb/${_script} CONTENT "${_shackd_script}" @ONLY)
  file(CHMOD ${PROJECT_BINARY_DIR}/deb/${_script} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
       GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS debian/changelog debian/shackd.postinst
             debian/shackd.postrm cmake/deb/postinst-systemd cmake/deb/postrm-systemd)

# Debian wants the changelog and the man page gzip'ed at maximum compression, without a timestamp.
configure_file(cmake/deb/shackd.8 ${PROJECT_BINARY_DIR}/deb/shackd.8 @ONLY)
configure_file(cmake/deb/shackd-sim.1 ${PROJECT_BINARY_DIR}/deb/shackd-sim.1 @ONLY)
foreach(_doc changelog shackd.8 shackd-sim.1)
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/deb/${_doc}.gz
    COMMAND gzip -9nfk ${PROJECT_BINARY_DIR}/deb/${_doc}
    DEPENDS ${PROJECT_BINARY_DIR}/deb/${_doc})
endforeach()
add_custom_target(deb_docs ALL DEPENDS ${PROJECT_BINARY_DIR}/deb/changelog.gz ${PROJECT_BINARY_DIR}/deb/shackd.8.gz
                  ${PROJECT_BINARY_DIR}/deb/shackd-sim.1.gz)
# A version with a Debian revision (0.2.0-1~deb13) is a non-native package: its changelog is
# changelog.Debian.gz (Debian Policy 12.7; lintian: debian-changelog-file-missing-or-wrong-name).
if(NOT SHACKD_DEBHELPER)
  install(FILES ${PROJECT_BINARY_DIR}/deb/changelog.gz DESTINATION share/doc/shackd RENAME changelog.Debian.gz)
endif()
install(FILES ${PROJECT_BINARY_DIR}/deb/shackd.8.gz DESTINATION share/man/man8)
install(FILES ${PROJECT_BINARY_DIR}/deb/shackd-sim.1.gz DESTINATION share/man/man1)

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
set(CPACK_DEBIAN_PACKAGE_RELEASE ${SHACKD_DEB_RELEASE})
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
# Depends is made when cpack runs, from the libraries both built binaries NEED (shackd-sim serves
# a Braiins OS miner's HTTP with cpp-httplib, which shackd no longer links; tests/package/check_deb.sh
# checks both binaries against it) and the suite's
# shlibs (cmake/deb/depends.sh; tests/package/check_deb.sh checks it resolves in the suite's
# index). mosquitto is only recommended: the broker may run on another host.
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/deb/cpack-project.cmake CONTENT
"if(CPACK_GENERATOR STREQUAL \"DEB\")
  execute_process(COMMAND ${PROJECT_SOURCE_DIR}/cmake/deb/depends.sh --sysroot \"${SHACKD_SYSROOT}\"
                          $<TARGET_FILE:shackd> $<TARGET_FILE:shackd-sim>
                  OUTPUT_VARIABLE _depends OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0 OR NOT _depends)
    message(FATAL_ERROR \"cmake/deb/depends.sh could not make the package's Depends (above)\")
  endif()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS \"\${_depends}\")
endif()
")
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/deb/cpack-project.cmake)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto")
# rsvg-convert, for `shackd report --out day.png` (the SVG needs nothing).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "librsvg2-bin")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/cmake/deb/conffiles
  ${PROJECT_BINARY_DIR}/deb/postinst
  ${PROJECT_SOURCE_DIR}/cmake/deb/prerm
  ${PROJECT_BINARY_DIR}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
