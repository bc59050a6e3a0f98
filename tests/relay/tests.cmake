# Async HDLC <-> UDP relay (tests/relay): lets a real pppd on a pty be a peer
# of the one-frame-per-datagram engine. Tool, codec unit tests, host
# integration tests (pty + UDP loopback + tshark), fuzz target sources.
set(_relay ${CMAKE_CURRENT_LIST_DIR})
set(RELAY_CODEC_SRCS ${_relay}/hdlc.c)

add_executable(hdlc-relay ${_relay}/hdlc-relay.c ${RELAY_CODEC_SRCS} ${_relay}/lcp_snoop.c
               ${_relay}/pcap.c)
target_link_libraries(hdlc-relay PRIVATE modemd_core)

add_executable(test_hdlc ${_relay}/test_hdlc.c ${RELAY_CODEC_SRCS} ${_relay}/lcp_snoop.c
               ${_relay}/pcap.c)
target_include_directories(test_hdlc PRIVATE ${_relay})
target_link_libraries(test_hdlc PRIVATE modemd_core PkgConfig::CMOCKA)
add_test(NAME unit/test_hdlc COMMAND test_hdlc)
set_tests_properties(unit/test_hdlc PROPERTIES LABELS unit TIMEOUT 60)

# tests/fuzz/fuzz_hdlc.c is registered by the fuzz glob; it needs the codec.
foreach(t fuzz_hdlc_replay fuzz_hdlc)
  if(TARGET ${t})
    target_sources(${t} PRIVATE ${RELAY_CODEC_SRCS})
    target_include_directories(${t} PRIVATE ${_relay})
  endif()
endforeach()

find_program(RELAY_PYTHON3 python3 REQUIRED)
add_test(NAME relay/host
  COMMAND ${RELAY_PYTHON3} -m unittest -v test_relay
  WORKING_DIRECTORY ${_relay})
set_tests_properties(relay/host PROPERTIES LABELS "relay" TIMEOUT 120
  ENVIRONMENT "HDLC_RELAY=$<TARGET_FILE:hdlc-relay>;PYTHONDONTWRITEBYTECODE=1")

# Real pppd <-> relay <-UDP-> relay <-> real pppd, inside user-mode Linux
# (kernel PPP): LCP/IPCP open, ping, a two-link bundle, captures decode.
add_test(NAME relay/uml-pppd
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/../uml/uml-run --timeout 170
          --dir ${CMAKE_BINARY_DIR}/tests/uml-run/relay --
          python3 ${_relay}/test_uml_relay.py --logdir ${CMAKE_BINARY_DIR}/tests/uml-run/relay/logs)
set_tests_properties(relay/uml-pppd PROPERTIES LABELS "relay;uml" TIMEOUT 180
  ENVIRONMENT "HDLC_RELAY=$<TARGET_FILE:hdlc-relay>;PYTHONDONTWRITEBYTECODE=1")
