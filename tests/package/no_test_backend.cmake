# SPDX-License-Identifier: BSL-1.0
# Fails if libsenet (LIBRARY) defines any symbol of the test backend, which belongs to senet::testing
# alone. Variables: NM (the nm program), LIBRARY (libsenet's file).
# The names are read mangled (no ';' or '[' in them, so they split into a CMake list safely) and
# filtered line by line: a regular expression over the whole output took 100 s on the asan build's
# library. test_network, test_backend (a member of it: 12test_backend then the member),
# make_test_backend and senet_testing_register are the test backend's; libsenet's own hooks for
# it (register_test_backend, test_backend_hooks, ...) are other names.
cmake_policy(SET CMP0007 NEW)
execute_process(COMMAND ${NM} --defined-only ${LIBRARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc
  ERROR_QUIET)
if(rc)
  message(FATAL_ERROR "${NM} ${LIBRARY} failed: ${rc}")
endif()
string(REPLACE "\n" ";" lines "${symbols}")
list(FILTER lines INCLUDE REGEX "12test_network|12test_backend[0-9CD]|17make_test_backend|senet_testing_register")
if(lines)
  list(JOIN lines "\n" text)
  message(FATAL_ERROR "libsenet defines symbols of the test backend:\n${text}")
endif()
message(STATUS "libsenet holds none of the test backend")
