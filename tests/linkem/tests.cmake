# linkem: the user-space link emulator (tests/linkem, docs/linkem.md). The
# tool, its engine unit test (fake clock), the fuzz target's sources and the
# namespace tests (root; they fail, never skip, without it).
set(_lk ${CMAKE_CURRENT_LIST_DIR})
set(LINKEM_CORE_SRCS ${_lk}/lk_trace.c ${_lk}/lk_profile.c ${_lk}/lk_queue.c)

add_executable(linkem ${_lk}/linkem.c ${_lk}/lk_ctl.c ${LINKEM_CORE_SRCS})
target_link_libraries(linkem PRIVATE PkgConfig::LIBCONFIG m)
# BUILD/tests/linkem/linkem, where tests, bench and the demo look for it.
set_target_properties(linkem PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/linkem)

add_executable(test_lk_queue ${_lk}/test_lk_queue.c ${LINKEM_CORE_SRCS})
target_include_directories(test_lk_queue PRIVATE ${_lk})
target_link_libraries(test_lk_queue PRIVATE PkgConfig::LIBCONFIG PkgConfig::CMOCKA m)
target_compile_definitions(test_lk_queue PRIVATE TEST_SRCDIR="${CMAKE_SOURCE_DIR}")
add_test(NAME unit/test_lk_queue COMMAND test_lk_queue)
set_tests_properties(unit/test_lk_queue PROPERTIES LABELS "unit;linkem" TIMEOUT 60)

# tests/fuzz/fuzz_linkem_profile.c is registered by the fuzz glob.
foreach(t fuzz_linkem_profile_replay fuzz_linkem_profile)
  if(TARGET ${t})
    target_sources(${t} PRIVATE ${LINKEM_CORE_SRCS})
    target_include_directories(${t} PRIVATE ${_lk})
    target_link_libraries(${t} PRIVATE PkgConfig::LIBCONFIG m)
  endif()
endforeach()

find_program(LINKEM_PYTHON3 python3 REQUIRED)
add_test(NAME linkem/netns
  COMMAND ${LINKEM_PYTHON3} ${_lk}/test_linkem.py --build ${CMAKE_BINARY_DIR}
          --workdir ${CMAKE_BINARY_DIR}/tests/linkem-run)
set_tests_properties(linkem/netns PROPERTIES LABELS "linkem;netns" TIMEOUT 120
  ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)

# The emulated topology (topology.sh --emulated) with a transparent linkem.
add_test(NAME netns/topology-emulated
  COMMAND ${CMAKE_SOURCE_DIR}/tests/netns/test_topology.sh --emulated $<TARGET_FILE:linkem>)
set_tests_properties(netns/topology-emulated PROPERTIES LABELS "netns;linkem" TIMEOUT 60)
