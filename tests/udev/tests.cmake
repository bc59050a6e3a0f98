# udev discovery against umockdev testbeds (tests/udev/*.umockdev), and lints
# of the shipped systemd unit and udev rule.
pkg_check_modules(UMOCKDEV REQUIRED IMPORTED_TARGET umockdev-1.0)
find_program(UMOCKDEV_WRAPPER umockdev-wrapper REQUIRED)
if(UMOCKDEV_FOUND AND UMOCKDEV_WRAPPER)
  add_executable(test_udev_umockdev ${CMAKE_CURRENT_LIST_DIR}/test_udev_umockdev.c)
  target_link_libraries(test_udev_umockdev PRIVATE modemd_core PkgConfig::UMOCKDEV PkgConfig::CMOCKA)
  target_compile_definitions(test_udev_umockdev PRIVATE TEST_SRCDIR="${CMAKE_SOURCE_DIR}")
  add_test(NAME udev/umockdev COMMAND ${UMOCKDEV_WRAPPER} $<TARGET_FILE:test_udev_umockdev>)
  # umockdev's preload library comes before ASan's runtime in LD_PRELOAD.
  set_tests_properties(udev/umockdev PROPERTIES LABELS udev TIMEOUT 120 SKIP_RETURN_CODE 77
    ENVIRONMENT "ASAN_OPTIONS=verify_asan_link_order=0")
else()
  message(STATUS "umockdev not found: udev/umockdev test not built")
endif()

add_test(NAME udev/systemd-verify
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/verify-systemd.sh ${CMAKE_BINARY_DIR}/systemd/modemd.service
          ${CMAKE_SOURCE_DIR}/systemd)
set_tests_properties(udev/systemd-verify PROPERTIES LABELS udev TIMEOUT 60)
