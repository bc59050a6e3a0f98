# Each test area registers its script tests in its own fragment, so areas can
# grow independently: tests/<area>/tests.cmake.
file(GLOB _frags CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*/tests.cmake)
foreach(f ${_frags})
  include(${f})
endforeach()
