# Network-namespace topology for integration tests (tests/netns/topology.sh,
# docs/transport.md). Needs root; fails (never skips) without it.
add_test(NAME netns/topology COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_topology.sh)
set_tests_properties(netns/topology PROPERTIES LABELS "netns" TIMEOUT 60)
