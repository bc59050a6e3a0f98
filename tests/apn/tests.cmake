# APN database: test_apn reads the imported apn-db/mbpi.conf from the build
# tree, so build it first; the importer itself is tested on a small fixture.
if(TARGET test_apn AND TARGET apn-db)
  add_dependencies(test_apn apn-db)
endif()
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME apn/import-mbpi
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_import_mbpi.py
            ${CMAKE_SOURCE_DIR}/apn-db/import-mbpi.py)
  set_tests_properties(apn/import-mbpi PROPERTIES LABELS unit TIMEOUT 60)
endif()
if(Python3_Interpreter_FOUND AND TARGET mpctl)
  add_test(NAME apn/mpctl-apn
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_mpctl_apn.py
            $<TARGET_FILE:mpctl> ${CMAKE_SOURCE_DIR}/apn-db/curated.conf
            ${CMAKE_BINARY_DIR}/apn-db/mbpi.conf)
  set_tests_properties(apn/mpctl-apn PROPERTIES LABELS unit TIMEOUT 60)
endif()
