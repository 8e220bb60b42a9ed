# Installation and the Debian package (issue 10).
#
#   cmake --install BUILD [--prefix P]   (default prefix /usr/local)
#     P/bin/esgnode, P/bin/esgwallet
#     P/share/bash-completion/completions/esgnode, esgwallet
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

# Bash completion, where bash-completion looks for it on demand (by the
# command's name, so no extension).
foreach(prog esgnode esgwallet)
  install(FILES ${CMAKE_SOURCE_DIR}/scripts/completion/${prog}.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${prog})
endforeach()

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

# ------------------------------------------------------------------ .deb
# The package's version is project()'s, with the Debian revision of the
# newest entry of packaging/debian/changelog (which must be of this
# version: tests/integration/test_package.sh checks it, lintian too).
file(STRINGS ${CMAKE_SOURCE_DIR}/packaging/debian/changelog esg_cl_top LIMIT_COUNT 1)
if(NOT esg_cl_top MATCHES "^esgledger \\(([^-)]+)-([^)]+)\\)")
  message(FATAL_ERROR "packaging/debian/changelog: first line '${esg_cl_top}' is not 'esgledger (VERSION-REVISION) ...'")
endif()
set(ESG_DEB_REVISION ${CMAKE_MATCH_2})
if(NOT CMAKE_MATCH_1 STREQUAL PROJECT_VERSION)
  message(WARNING "packaging/debian/changelog's newest entry is ${CMAKE_MATCH_1}, "
                  "project() says ${PROJECT_VERSION}: add an entry for ${PROJECT_VERSION}")
endif()
set(ESG_DEB_MAINTAINER
    "esgledger maintainers <maintainers@users.noreply.h-seed-09379dc4.example>"
    CACHE STRING "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME esgledger)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${ESG_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Permissioned ledger for green bonds co-issued by cities")
set(CPACK_PACKAGE_DESCRIPTION_FILE ${CMAKE_SOURCE_DIR}/packaging/debian/description)
# The DEB generator installs with DESTDIR and this prefix, so that
# install-config.cmake sees /usr and puts the configuration in /etc.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${ESG_DEB_REVISION})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ESG_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The runtime libraries, from dpkg-shlibdeps (dpkg-dev), plus adduser, which
# postinst falls back on where systemd-sysusers is missing.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
