# SPDX-License-Identifier: BSL-1.0
# Installs the built senet into a scratch prefix, then configures, builds and runs tests/package as an
# outside project would (find_package), and compiles consumer.cpp once more with the pkg-config flags.
# The same for a C program on the C API (c_consumer.c): a project in C alone (tests/package/c), and
# the C compiler with the pkg-config flags.
# Variables: BUILD_DIR (senet's build), SOURCE_DIR (tests/package), WORK_DIR (scratch), CXX, CXX_FLAGS,
# CC, C_FLAGS.
file(REMOVE_RECURSE ${WORK_DIR})
# A C program linking a libsenet built with clang's UndefinedBehaviorSanitizer needs the sanitizer's
# C++ runtime too (the vptr check's handlers), which clang's C driver leaves out unless asked.
if(CC MATCHES "clang" AND C_FLAGS MATCHES "-fsanitize=[^ ]*undefined")
  string(APPEND C_FLAGS " -fsanitize-link-c++-runtime")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
  -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer with find_package(senet) failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
foreach(program consumer coro_consumer testing_consumer deflate_consumer)
  execute_process(COMMAND ${WORK_DIR}/build/${program} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the ${program} failed: ${rc}")
  endif()
endforeach()
# A project whose only language is C: find_package(senet) and senet::senet must be enough.
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/c -B ${WORK_DIR}/build-c
  -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_C_COMPILER=${CC} "-DCMAKE_C_FLAGS=${C_FLAGS}"
  RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the C consumer (project in C alone) with find_package(senet) failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build-c RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the C consumer with senet::senet failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build-c/c_consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the C consumer failed: ${rc}")
endif()
# pkg-config: the .pc file must give flags that build and link the same program.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  file(GLOB pc_dirs ${WORK_DIR}/prefix/lib*/pkgconfig ${WORK_DIR}/prefix/lib/*/pkgconfig)
  set(ENV{PKG_CONFIG_PATH} "${pc_dirs}")
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs senet OUTPUT_VARIABLE pc_flags
    OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "pkg-config --cflags --libs senet failed")
  endif()
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  separate_arguments(extra UNIX_COMMAND "${CXX_FLAGS}")
  execute_process(COMMAND ${CXX} -std=c++20 ${extra} ${SOURCE_DIR}/consumer.cpp ${pc_flags} -o ${WORK_DIR}/pc_consumer
    RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building with pkg-config flags failed")
  endif()
  execute_process(COMMAND ${WORK_DIR}/pc_consumer RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the pkg-config consumer failed")
  endif()
  # senet-testing.pc: a user's test with the test backend.
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs senet-testing OUTPUT_VARIABLE pc_flags
    OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "pkg-config --cflags --libs senet-testing failed")
  endif()
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  execute_process(COMMAND ${CXX} -std=c++20 ${extra} ${SOURCE_DIR}/testing_consumer.cpp ${pc_flags}
    -o ${WORK_DIR}/pc_testing_consumer RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building with pkg-config senet-testing flags failed")
  endif()
  execute_process(COMMAND ${WORK_DIR}/pc_testing_consumer RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the pkg-config senet-testing consumer failed")
  endif()
  # senet-deflate.pc: a program that compresses with senet/stream/deflate_sink.hpp (senet and zlib).
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs senet-deflate OUTPUT_VARIABLE pc_flags
    OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "pkg-config --cflags --libs senet-deflate failed")
  endif()
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  execute_process(COMMAND ${CXX} -std=c++20 ${extra} ${SOURCE_DIR}/deflate_consumer.cpp ${pc_flags}
    -o ${WORK_DIR}/pc_deflate_consumer RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building with pkg-config senet-deflate flags failed")
  endif()
  execute_process(COMMAND ${WORK_DIR}/pc_deflate_consumer RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the pkg-config senet-deflate consumer failed")
  endif()
  # A C program, compiled and linked by the C compiler with `pkg-config --cflags --libs senet`.
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs senet OUTPUT_VARIABLE pc_flags
    OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  separate_arguments(c_extra UNIX_COMMAND "${C_FLAGS}")
  execute_process(COMMAND ${CC} ${c_extra} -std=c11 ${SOURCE_DIR}/c_consumer.c ${pc_flags}
    -o ${WORK_DIR}/pc_c_consumer RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building the C consumer with ${CC} and the pkg-config flags failed")
  endif()
  execute_process(COMMAND ${WORK_DIR}/pc_c_consumer RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the pkg-config C consumer failed")
  endif()
endif()
message(STATUS "find_package(senet) and pkg-config consumers built and ran, with and without senet::testing, with senet::deflate, and in C")
