# User-mode Linux testbed: real pppd (kernel PPP exists only inside UML).
set(UML_RUN ${CMAKE_CURRENT_LIST_DIR}/uml-run)
add_test(NAME uml/ppp
  COMMAND ${UML_RUN} --timeout 170 --dir ${CMAKE_BINARY_DIR}/tests/uml-run/ppp --
          python3 ${CMAKE_CURRENT_LIST_DIR}/test_ppp.py --logdir ${CMAKE_BINARY_DIR}/tests/uml-run/ppp/logs)
set_tests_properties(uml/ppp PROPERTIES LABELS "uml" TIMEOUT 180 ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
