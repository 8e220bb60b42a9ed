# Installation and the Debian package (issue 10).
#
#   cmake --install BUILD [--prefix P]   (default prefix /usr/local)
#     P/bin/esgnode, P/bin/esgwallet
#     P/share/man/man1/esgnode.1.gz, esgwallet.1.gz, man5/esgnode.conf.5.gz
#     P/share/doc/esgledger/copyright, changelog.Debian.gz,
#     P/share/lintian/overrides/esgledger
#     P/lib/systemd/system/esgnode.service, P/lib/sysusers.d/esgledger.conf
#     /etc/esgledger/esgnode.conf when P is /usr, else P/etc/esgledger/...
#       (never over an existing one)
#   cpack -G DEB --config BUILD/CPackConfig.cmake [-B DIR]
#     esgledger_VERSION-REL_ARCH.deb: the same files under /usr and /etc,
#     the configuration as a conffile, maintainer scripts in
#     packaging/debian.
#
# Nothing else is installed: the check runner, esgbench,
# esgnode-failpoints, esgtest-equivocate, libesgclockskew.so and the fuzz
# targets stay in the build tree. Every path is relative to the prefix
# (GNUInstallDirs), except the configuration's (packaging/install-config.cmake).
include(GNUInstallDirs)

install(TARGETS esgnode esgwallet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Man pages (roff in docs/man) and the Debian changelog, compressed as
# Debian wants them: gzip -9n, no name or time stamp, so the bytes depend
# on the source only.
find_program(ESG_GZIP gzip REQUIRED)
set(ESG_GZ_FILES "")
macro(esg_gzip src gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
    COMMAND sh -c "\"$0\" -9nc \"$1\" > \"$2\"" ${ESG_GZIP} ${src} ${gz}
    DEPENDS ${src} VERBATIM)
  list(APPEND ESG_GZ_FILES ${gz})
endmacro()
foreach(page esgnode.1 esgwallet.1 esgnode.conf.5)
  set(gz ${CMAKE_BINARY_DIR}/packaging/${page}.gz)
  esg_gzip(${CMAKE_SOURCE_DIR}/docs/man/${page} ${gz})
  string(REGEX MATCH "[0-9]$" section ${page})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
set(gz ${CMAKE_BINARY_DIR}/packaging/changelog.Debian.gz)
esg_gzip(${CMAKE_SOURCE_DIR}/packaging/debian/changelog ${gz})
add_custom_target(esgpackaging ALL DEPENDS ${ESG_GZ_FILES})
install(FILES ${gz} ${CMAKE_SOURCE_DIR}/packaging/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME esgledger)

# The service's user (sysusers.d(5); the .deb's postinst runs
# systemd-sysusers on it) and the unit with its configuration.
set(ESG_UNITDIR lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/esgledger.sysusers
        DESTINATION lib/sysusers.d RENAME esgledger.conf)
install(CODE "set(ESG_SRC_DIR \"${CMAKE_SOURCE_DIR}\")
set(ESG_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(ESG_UNITDIR \"${ESG_UNITDIR}\")")
install(SCRIPT ${CMAKE_SOURCE_DIR}/packaging/install-config.cmake)
