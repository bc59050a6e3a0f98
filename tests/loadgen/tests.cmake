# Receiver-scale load generator (tests/loadgen): mpload simulates many bundle
# gateways (the project's own plink/bundle/ipcp objects, one epoll loop)
# against a real modemd receiver. Used by bench/b_scale.py and by the
# functional test below (20 gateways x 3 links in network namespaces).
set(_loadgen ${CMAKE_CURRENT_LIST_DIR})

add_executable(mpload ${_loadgen}/mpload.c ${_loadgen}/mload_gw.c ${_loadgen}/mload_data.c
               ${_loadgen}/mload_clock.c)
target_include_directories(mpload PRIVATE ${_loadgen})
target_link_libraries(mpload PRIVATE modemd_core)

find_program(LOADGEN_PYTHON3 python3 REQUIRED)
add_test(NAME loadgen/scale
  COMMAND ${LOADGEN_PYTHON3} ${_loadgen}/test_loadgen.py --build ${CMAKE_BINARY_DIR}
          --workdir ${CMAKE_BINARY_DIR}/tests/loadgen-run)
set_tests_properties(loadgen/scale PROPERTIES LABELS "scale" TIMEOUT 90
  ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
