# Run by `cmake --install` (and cpack) after the files of packaging.cmake:
# the parts whose path depends on the prefix chosen at install time, which
# plain install(FILES) cannot express.
#
#   sysconfdir   /etc when the prefix is /usr (what Debian and
#                GNUInstallDirs do), PREFIX/etc otherwise
#   the unit     ExecStart names PREFIX/bin/esgnode and that config file
#
# Set by install(CODE) before this runs: ESG_SRC_DIR, ESG_BINDIR (bin) and
# ESG_UNITDIR (lib/systemd/system), both relative to the prefix.
if(CMAKE_INSTALL_PREFIX MATCHES "^/(usr/?)?$")
  set(esg_etc "/etc")
else()
  set(esg_etc "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(ESG_CONFIG_FILE "${esg_etc}/esgledger/esgnode.conf")
set(ESG_FULL_BINDIR "${CMAKE_INSTALL_PREFIX}/${ESG_BINDIR}")

# The configuration: installed once, never over an existing (edited) one.
# In the .deb it is a conffile, which dpkg keeps on upgrade.
set(conf "$ENV{DESTDIR}${ESG_CONFIG_FILE}")
if(EXISTS "${conf}")
  message(STATUS "Keeping: ${conf} (already there; the new default is ${ESG_SRC_DIR}/packaging/esgnode.conf)")
else()
  file(INSTALL "${ESG_SRC_DIR}/packaging/esgnode.conf"
       DESTINATION "${esg_etc}/esgledger"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()

# The unit, with this install's paths.
set(unit "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${ESG_UNITDIR}/esgnode.service")
message(STATUS "Installing: ${unit}")
configure_file("${ESG_SRC_DIR}/packaging/esgnode.service.in" "${unit}" @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_PREFIX}/${ESG_UNITDIR}/esgnode.service")
