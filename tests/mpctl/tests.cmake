# mpctl as users run it: the real binary against no daemon, a stale socket, a
# socket it may not use, a silent daemon, and the real modemd on the SIM7100
# simulator.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  add_test(NAME mpctl/cli
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_mpctl.py
            $<TARGET_FILE:mpctl> $<TARGET_FILE:modemd>)
  set_tests_properties(mpctl/cli PROPERTIES LABELS mpctl TIMEOUT 180)
endif()
