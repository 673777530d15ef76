# Turns files into a C source that holds them as byte arrays, so the server
# carries its schema (and later its dashboard) inside the binary.
#
# exptrack_embed(OUTPUT out.c SYMBOL name BASE dir FILES f1 f2 ...)
# generates:  const struct embedded_file name[]; const size_t name_count;
# with entries sorted by the order of FILES, paths relative to BASE.

function(exptrack_embed)
    cmake_parse_arguments(E "" "OUTPUT;SYMBOL;BASE" "FILES" ${ARGN})
    add_custom_command(
        OUTPUT ${E_OUTPUT}
        COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DSYMBOL=${E_SYMBOL} -DBASE=${E_BASE}
                "-DFILES=${E_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
        DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
        COMMENT "Embedding ${E_SYMBOL}"
        VERBATIM)
endfunction()
