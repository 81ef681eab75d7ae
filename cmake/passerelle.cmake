# Shared build settings for Passerelle's own targets.
#
# passerelle_target_defaults(<target>) gives a target the repo-root include path, the warning set (fatal when
# PASSERELLE_WERROR is on) and the sanitizer flags. Third-party code never gets these flags.

# Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (see shared notes).
set(PASSERELLE_COMMON_DEFINITIONS BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # clang 14 does not detect Asio 1.74's coroutine support by itself.
  list(APPEND PASSERELLE_COMMON_DEFINITIONS BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
endif()

set(PASSERELLE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 false positives in libstdc++/Boost headers under -O2/-O3 (maybe-uninitialized in std::optional;
  # restrict/stringop-overflow/array-bounds on inlined std::string copies, GCC bugs 105329, 105651, 106199).
  list(APPEND PASSERELLE_WARNINGS -Wno-maybe-uninitialized -Wno-null-dereference -Wno-restrict -Wno-stringop-overflow
       -Wno-array-bounds)
endif()

if(PASSERELLE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

function(passerelle_target_defaults target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${target} PUBLIC ${PASSERELLE_COMMON_DEFINITIONS})
  target_compile_options(${target} PRIVATE ${PASSERELLE_WARNINGS} -include utility)
  if(PASSERELLE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Adds every immediate subdirectory of the current source dir that has a CMakeLists.txt, in sorted order,
# so modules can be added without editing a shared list.
function(passerelle_add_subdirectories)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()

# passerelle_test(<name> SOURCES ... LIBS ... [LABELS ...]): a Catch2 test executable registered with ctest,
# one ctest entry per test case, labelled (e.g. "kafka") so `ctest -L kafka` / `-LE kafka` select them.
function(passerelle_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  passerelle_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} passerelle_catch_main)
  catch_discover_tests(${name})
  # Labels are set after discovery: Catch2 2.13 flattens PROPERTIES into one list, so a second label would be read
  # as a property name and lost. The discovered names are in ${name}_TESTS (catch_discover_tests' TEST_LIST).
  if(T_LABELS)
    set(labels_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
    file(WRITE "${labels_file}"
         "if(DEFINED ${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${T_LABELS}\")\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_file}")
  endif()
endfunction()
