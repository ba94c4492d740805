# Install rules and Debian packages.
#
#   cmake --install build [--prefix DIR]   the `pave` command, libpave.so.0, pave/vm.h,
#                                          pave.pc (pkg-config) and the CMake package `Pave`
#   cpack --config build/CPackConfig.cmake three .deb files: pave (the command),
#                                          libpave0 (the library), libpave-dev (header,
#                                          pkg-config, CMake package, libpave.so link,
#                                          the Go binding's sources)
#
# Components: cli (pave), lib (libpave0), dev (libpave-dev).
include(CMakePackageConfigHelpers)

install(TARGETS pave_shared EXPORT PaveTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/runtime/include/pave/vm.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pave COMPONENT dev)
if(TARGET pave)
  install(TARGETS pave RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
endif()

# The Go binding's module (pave.internal/pave) as Debian ships Go sources: under
# share/gocode/src/<module path>, in libpave-dev, so that it always matches the installed
# library. Go programs use it with a replace directive (bindings/go/README.md).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/bindings/go/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/gocode/src/pave.internal/pave COMPONENT dev)

# find_package(Pave) gives the imported target Pave::runtime (the shared library, with its
# include directory).
set(PAVE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Pave)
install(EXPORT PaveTargets NAMESPACE Pave:: FILE PaveTargets.cmake
  DESTINATION ${PAVE_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/PaveConfig.cmake.in
  ${PROJECT_BINARY_DIR}/PaveConfig.cmake INSTALL_DESTINATION ${PAVE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/PaveConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/PaveConfig.cmake ${PROJECT_BINARY_DIR}/PaveConfigVersion.cmake
  DESTINATION ${PAVE_CMAKE_DIR} COMPONENT dev)

# pave.pc finds its prefix relative to its own directory, so an installed tree can be moved
# (or unpacked with `dpkg -x` anywhere) and still be used through PKG_CONFIG_PATH.
file(RELATIVE_PATH PAVE_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" PAVE_PC_TO_PREFIX "${PAVE_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/pave.pc.in ${PROJECT_BINARY_DIR}/pave.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pave.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# Debian packages.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pave)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Pave maintainers <pave@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "policy-as-code compiler and runtime for self-service requests")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli lib dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME pave)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION devel)
set(CPACK_COMPONENT_CLI_DESCRIPTION "Pave command line: check, build, test and evaluate policies")
set(CPACK_DEBIAN_LIB_PACKAGE_NAME libpave0)
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIB_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_COMPONENT_LIB_DESCRIPTION "Pave runtime: loads signed policy bundles and decides requests (C API)")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libpave-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libpave0 (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_DEV_DESCRIPTION "Pave runtime: C header, pkg-config file, CMake package and Go binding sources")
include(CPack)
