# The short demo (scripts/demo.sh, docs/demo.md) as a test, inside user-mode
# Linux: three simulated modems dial real carrier pppds, each carrier's path
# crosses linkem with a different LTE trace, the three links form one bundle
# with a modemd receiver. Asserts the bundle works end to end: all three
# links in the bundle on both sides, iperf3 through it completes, every link
# carried part of it, clean shutdown. No timing thresholds.
add_test(NAME e2e/demo
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/../uml/uml-run --timeout 110
          --dir ${CMAKE_BINARY_DIR}/tests/e2e-run/demo --
          python3 ${CMAKE_CURRENT_LIST_DIR}/../e2e/demo_guest.py --check --seconds 5
                  --build ${CMAKE_BINARY_DIR} --workdir ${CMAKE_BINARY_DIR}/tests/e2e-run/demo/work)
set_tests_properties(e2e/demo PROPERTIES LABELS "e2e;uml" TIMEOUT 120
  ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
