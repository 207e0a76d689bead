# SPDX-License-Identifier: BSL-1.0
# Fails if libsenet (LIBRARY) defines any symbol of the test backend, which belongs to senet::testing
# alone. Variables: NM (the nm program), LIBRARY (libsenet's file).
execute_process(COMMAND ${NM} -C --defined-only ${LIBRARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc
  ERROR_QUIET)
if(rc)
  message(FATAL_ERROR "${NM} ${LIBRARY} failed: ${rc}")
endif()
string(REGEX MATCHALL "[^\n]*(test_network|test_backend::|make_test_backend|senet_testing_register)[^\n]*"
  found "${symbols}")
if(found)
  list(JOIN found "\n" text)
  message(FATAL_ERROR "libsenet defines symbols of the test backend:\n${text}")
endif()
message(STATUS "libsenet holds none of the test backend")
