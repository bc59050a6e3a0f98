# Network-namespace topology for integration tests (tests/netns/topology.sh,
# docs/transport.md). Needs root; fails (never skips) without it.
add_test(NAME netns/topology COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_topology.sh)
set_tests_properties(netns/topology PROPERTIES LABELS "netns" TIMEOUT 60)

# The MP-over-UDP bundle end to end on the host: the real modemd as receiver
# and gateways in namespaces (tests/netns/test_bundle.py, docs/testing.md).
# One ctest per case; root required (fails, never skips, without it).
foreach(c basic cut two auth route hostile)
  add_test(NAME netns/bundle-${c}
    COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/test_bundle.py --build ${CMAKE_BINARY_DIR}
            --workdir ${CMAKE_BINARY_DIR}/tests/netns-run/bundle ${c})
  set_tests_properties(netns/bundle-${c} PROPERTIES LABELS "netns;bundle" TIMEOUT 180
    ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endforeach()

# The bundle's NCPs in the daemon: IPV6CP link-local echo both ways, the
# gateway's LAN prefixes routed by the receiver, DNS in mpctl status.
add_test(NAME netns/bundle-ipv6
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/test_bundle_ipv6.py --build ${CMAKE_BINARY_DIR}
          --workdir ${CMAKE_BINARY_DIR}/tests/netns-run/bundle-ipv6)
set_tests_properties(netns/bundle-ipv6 PROPERTIES LABELS "netns;bundle" TIMEOUT 120
  ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
