# Interoperability with Linux pppd + kernel multilink, inside user-mode Linux
# (kernel PPP exists only there): our gateway -> pppd receiver and pppd
# gateway -> our receiver, through tests/relay hdlc-relay, 2 and 3 links,
# long and short sequence numbers, CHAP both ways; ping, iperf3 both ways,
# the relays' captures checked with tshark. docs/testing.md.
set(_interop ${CMAKE_CURRENT_LIST_DIR})
foreach(t ours-pppd-long ours-pppd-short pppd-ours-long pppd-ours-short)
  string(REGEX MATCH "^(ours-pppd|pppd-ours)" _dir ${t})
  if(t MATCHES "short$")
    set(_cases ${_dir}-2-short ${_dir}-3-short)
  else()
    set(_cases ${_dir}-2 ${_dir}-3)
  endif()
  add_test(NAME interop/${t}
    COMMAND ${_interop}/../uml/uml-run --timeout 240 --dir ${CMAKE_BINARY_DIR}/tests/uml-run/interop-${t} --
            python3 ${_interop}/test_interop.py --build ${CMAKE_BINARY_DIR}
            --workdir ${CMAKE_BINARY_DIR}/tests/uml-run/interop-${t}/logs ${_cases})
  set_tests_properties(interop/${t} PROPERTIES LABELS "interop;uml" TIMEOUT 250
    ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endforeach()
