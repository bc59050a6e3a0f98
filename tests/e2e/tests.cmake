# End-to-end tests of the whole daemon inside user-mode Linux: simulated
# modems (tests/sim), real chat + pppd, carrier pppds in network namespaces.
# Each test is one UML boot running several cases (one PASS/FAIL line each).
set(E2E_UML_RUN ${CMAKE_CURRENT_LIST_DIR}/../uml/uml-run)
foreach(t dial scenarios)
  add_test(NAME e2e/${t}
    COMMAND ${E2E_UML_RUN} --timeout 170 --dir ${CMAKE_BINARY_DIR}/tests/e2e-run/${t} --
            python3 ${CMAKE_CURRENT_LIST_DIR}/test_${t}.py --build ${CMAKE_BINARY_DIR}
                    --workdir ${CMAKE_BINARY_DIR}/tests/e2e-run/${t}/work)
  set_tests_properties(e2e/${t} PROPERTIES LABELS "e2e;uml" TIMEOUT 180
    ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endforeach()
# The MP-over-UDP bundle over modem links (bundle.modem_links): gateway and
# receiver modemd, two simulated modems, carriers sharing one namespace.
add_test(NAME e2e/bundle_modems
  COMMAND ${E2E_UML_RUN} --timeout 170 --dir ${CMAKE_BINARY_DIR}/tests/e2e-run/bundle_modems --
          python3 ${CMAKE_CURRENT_LIST_DIR}/test_bundle_modems.py --build ${CMAKE_BINARY_DIR}
                  --workdir ${CMAKE_BINARY_DIR}/tests/e2e-run/bundle_modems/work)
set_tests_properties(e2e/bundle_modems PROPERTIES LABELS "e2e;uml;bundle" TIMEOUT 180
  ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
