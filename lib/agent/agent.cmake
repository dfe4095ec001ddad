# golat-agent.so: the recorder and the trampoline stubs of libgolat.so, from the same
# sources, built freestanding for static Go programs (agent.h): no libc, no TLS of its
# own, no loader (the golat command maps it and applies its R_X86_64_RELATIVE
# relocations itself), its ELF entry point golat_agent_init. Included by
# lib/CMakeLists.txt, in its directory scope, so that the recorder's per-source
# options (-mgeneral-regs-only, ...) set there apply here too.
set(GOLAT_AGENT_SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/agent/agent.c
  ${CMAKE_CURRENT_SOURCE_DIR}/agent/mem.c
  ${CMAKE_CURRENT_SOURCE_DIR}/agent/sig.c
  ${CMAKE_CURRENT_SOURCE_DIR}/arch/${GOLAT_ARCH}/agent/sigrt.S
  ${CMAKE_CURRENT_SOURCE_DIR}/engine/sigtab.c
  ${CMAKE_CURRENT_SOURCE_DIR}/record/recorder.c
  ${CMAKE_CURRENT_SOURCE_DIR}/record/recstack.c
  ${CMAKE_CURRENT_SOURCE_DIR}/record/gslot.c
  ${CMAKE_CURRENT_SOURCE_DIR}/record/callers.c
  ${CMAKE_CURRENT_SOURCE_DIR}/record/slowest.c
  ${CMAKE_CURRENT_SOURCE_DIR}/record/statscell.c
  ${CMAKE_CURRENT_SOURCE_DIR}/record/vdso.c
  ${CMAKE_CURRENT_SOURCE_DIR}/arch/${GOLAT_ARCH}/recfast.S
  ${CMAKE_CURRENT_SOURCE_DIR}/arch/${GOLAT_ARCH}/tramp.S)
add_library(golat_agent SHARED ${GOLAT_AGENT_SOURCES})
set_target_properties(golat_agent PROPERTIES PREFIX "" OUTPUT_NAME golat-agent)
target_include_directories(golat_agent PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${GOLAT_INCLUDE_DIRS}
  ${CMAKE_CURRENT_SOURCE_DIR}/agent)
target_compile_definitions(golat_agent PRIVATE GOLAT_AGENT)
# The sanitizers' runtime is a libc-based library: an agent built with it could not
# load. The top-level add_compile_options/add_link_options (GOLAT_SANITIZE) are copied
# into every target of the tree when it is made: take them back out of this one.
foreach(prop COMPILE_OPTIONS LINK_OPTIONS)
  get_target_property(opts golat_agent ${prop})
  if(opts)
    list(FILTER opts EXCLUDE REGEX "^-fsanitize|^-fno-sanitize-recover|^-fno-omit-frame-pointer")
    set_target_properties(golat_agent PROPERTIES ${prop} "${opts}")
  endif()
endforeach()
target_compile_options(golat_agent PRIVATE -ffreestanding -fPIC -fvisibility=hidden -fno-stack-protector
  -fno-sanitize=all -mgeneral-regs-only -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables
  -fno-unwind-tables -fcf-protection=none)
# -Bsymbolic and hidden visibility: every reference binds inside, so the only
# relocations left are R_X86_64_RELATIVE. --no-undefined: a libc call would be an
# undefined symbol, so it fails the link here rather than in the target.
target_link_options(golat_agent PRIVATE -nostdlib -Wl,-Bsymbolic -Wl,--no-undefined -Wl,-z,noexecstack
  -Wl,-e,golat_agent_init -Wl,--hash-style=gnu)
