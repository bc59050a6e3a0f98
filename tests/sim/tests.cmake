# SIM7100 simulator (tests/sim): its self-tests and the real chat(8) running
# every shipped chat script against it run on the host; the carrier hand-off
# needs kernel PPP and runs inside user-mode Linux.
find_program(SIM_PYTHON3 python3 REQUIRED)
set(_sim ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME sim/simulator COMMAND ${SIM_PYTHON3} -m unittest -v test_sim WORKING_DIRECTORY ${_sim})
add_test(NAME sim/chat-scripts COMMAND ${SIM_PYTHON3} -m unittest -v test_chat WORKING_DIRECTORY ${_sim})
set_tests_properties(sim/simulator sim/chat-scripts PROPERTIES
  LABELS "sim" TIMEOUT 240 ENVIRONMENT "MODEMD_SRCDIR=${CMAKE_SOURCE_DIR}")
add_test(NAME sim/uml-carrier
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/../uml/uml-run --timeout 170
          --dir ${CMAKE_BINARY_DIR}/tests/uml-run/sim-carrier --
          python3 ${_sim}/test_uml_carrier.py --logdir ${CMAKE_BINARY_DIR}/tests/uml-run/sim-carrier/logs)
set_tests_properties(sim/uml-carrier PROPERTIES LABELS "sim;uml" TIMEOUT 180
  ENVIRONMENT "MODEMD_SRCDIR=${CMAKE_SOURCE_DIR}")
