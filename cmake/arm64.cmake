# What an arm64 build (cmake/aarch64-linux-gnu.cmake) has today: the parts of golat that
# do not depend on the instruction set. The top-level CMakeLists.txt includes this file
# instead of lib/, tools/, dist/ and tests/ when CMAKE_SYSTEM_PROCESSOR is aarch64: the
# x86-64 engine (assembly, x86 registers, rdtsc, capstone's x86 decoding) is being split
# behind lib/arch/ (issue 21), and what moves there grows this list.
#   golat_reader   lib/reader: the Go binary reader (ELF, pclntab, buildinfo, DWARF)
#   lib/arch/arm64 arm64 relocation, when it has a CMakeLists.txt
#   test_pclntab, test_spec  tests/unit's architecture-neutral unit tests (CTest runs them
#                  under qemu-user, CMAKE_CROSSCOMPILING_EMULATOR; tests/arm64/cross.sh
#                  does, from the x86-64 build)
# Not glibc_compat.h: its symbol versions are x86-64's, and only libgolat.so and the
# command, which an arm64 build does not have yet, need it.
file(GLOB GOLAT_READER_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lib/reader/*.c)
add_library(golat_reader STATIC ${GOLAT_READER_SOURCES})
target_include_directories(golat_reader PUBLIC ${PROJECT_SOURCE_DIR}/lib
  ${PROJECT_SOURCE_DIR}/lib/reader ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(golat_reader PUBLIC golat::capstone golat::zlib)

set(GOLAT_ARM64_HAS golat_reader)
if(EXISTS ${PROJECT_SOURCE_DIR}/lib/arch/arm64/CMakeLists.txt)
  add_subdirectory(lib/arch/arm64)
  list(APPEND GOLAT_ARM64_HAS lib/arch/arm64)
endif()

option(GOLAT_TESTS "build and register the tests" ON)
if(GOLAT_TESTS)
  add_executable(test_pclntab tests/unit/test_pclntab.c)
  add_executable(test_spec tests/unit/test_spec.c lib/engine/spec.c)
  foreach(t test_pclntab test_spec)
    target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/lib/engine)
    target_link_libraries(${t} PRIVATE golat_reader)
    add_test(NAME unit_${t} COMMAND ${t})
    set_tests_properties(unit_${t} PROPERTIES LABELS "unit;arm64" TIMEOUT 60)
    list(APPEND GOLAT_ARM64_HAS ${t})
  endforeach()
endif()
list(JOIN GOLAT_ARM64_HAS ", " has)
message(STATUS "arm64 build: ${has}; not yet for arm64: golat_core, libgolat.so, "
  "the golat command, golat-agent.so, dist/ and tests/ (issue 21, cmake/arm64.cmake)")
