# Run by `cmake --install` (see golat_install_configured in CMakeLists.txt): writes
# GOLAT_OUT from GOLAT_SRC with the paths of this installation, whose prefix is known
# only now (`cmake --install --prefix DIR`). In: GOLAT_SRC, GOLAT_OUT, GOLAT_LIBDIR,
# GOLAT_PKGLIBDIR, GOLAT_INCLUDEDIR (as configured: relative to the prefix, or absolute),
# PROJECT_VERSION, and CMAKE_INSTALL_PREFIX as cmake --install sets it. Out, for @VAR@:
# GOLAT_PREFIX and GOLAT_<DIR> absolute, GOLAT_PC_<DIR> under ${prefix} for golat.pc.
set(GOLAT_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(d LIBDIR PKGLIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${GOLAT_${d}}")
    set(GOLAT_PC_${d} "${GOLAT_${d}}")
  else()
    set(GOLAT_PC_${d} "\${prefix}/${GOLAT_${d}}")
    set(GOLAT_${d} "${GOLAT_PREFIX}/${GOLAT_${d}}")
  endif()
endforeach()
configure_file("${GOLAT_SRC}" "${GOLAT_OUT}" @ONLY)
