# The dashboard inside the binary: web/ (HTML, CSS, ES modules) plus the
# uPlot files from web/node_modules, each text file precompressed with gzip at
# build time, all embedded as one table (web_files) by exptrack_embed().
#
# exptrack_web_embed(OUTPUT out.c) defines the custom command producing out.c.
# web/node_modules comes from `npm ci` in web/ (scripts/install-deps.sh).

set(EXPTRACK_WEB_DIR ${PROJECT_SOURCE_DIR}/web)

function(exptrack_web_embed)
    cmake_parse_arguments(W "" "OUTPUT" "" ${ARGN})
    set(web ${EXPTRACK_WEB_DIR})
    set(uplot ${web}/node_modules/uplot/dist)
    if(NOT EXISTS ${uplot}/uPlot.esm.js OR NOT EXISTS ${uplot}/uPlot.min.css)
        message(FATAL_ERROR
            "web/node_modules is missing (uPlot for the dashboard). Run "
            "`scripts/install-deps.sh build` or `cd web && npm ci`, then configure again.")
    endif()
    if(EXISTS ${web}/node_modules/.package-lock.json
       AND ${web}/package-lock.json IS_NEWER_THAN ${web}/node_modules/.package-lock.json)
        message(WARNING "web/package-lock.json is newer than web/node_modules: run `cd web && npm ci`")
    endif()
    find_program(GZIP_EXECUTABLE gzip REQUIRED)

    file(GLOB_RECURSE sources CONFIGURE_DEPENDS
        ${web}/index.html ${web}/js/*.js ${web}/css/*.css ${web}/img/*)
    # source file -> path under /static/ (relative to the staging folder)
    set(pairs "")
    foreach(f IN LISTS sources)
        file(RELATIVE_PATH rel ${web} ${f})
        list(APPEND pairs "${f}|${rel}")
    endforeach()
    list(APPEND pairs "${uplot}/uPlot.esm.js|vendor/uplot/uPlot.esm.js"
                      "${uplot}/uPlot.min.css|vendor/uplot/uPlot.min.css"
                      "${web}/node_modules/uplot/LICENSE|vendor/uplot/LICENSE.txt")

    set(stage ${CMAKE_CURRENT_BINARY_DIR}/web)
    set(embed_files "")
    foreach(pair IN LISTS pairs)
        string(REPLACE "|" ";" parts "${pair}")
        list(GET parts 0 src)
        list(GET parts 1 rel)
        set(dst ${stage}/${rel})
        if(rel MATCHES "\\.(html|js|css|json|svg|txt)$")
            add_custom_command(
                OUTPUT ${dst} ${dst}.gz
                COMMAND ${CMAKE_COMMAND} -E copy ${src} ${dst}
                COMMAND ${GZIP_EXECUTABLE} -9 -n -k -f ${dst}
                DEPENDS ${src}
                COMMENT "Staging and compressing web/${rel}"
                VERBATIM)
            list(APPEND embed_files ${dst} ${dst}.gz)
        else()
            add_custom_command(
                OUTPUT ${dst}
                COMMAND ${CMAKE_COMMAND} -E copy ${src} ${dst}
                DEPENDS ${src}
                COMMENT "Staging web/${rel}"
                VERBATIM)
            list(APPEND embed_files ${dst})
        endif()
    endforeach()
    exptrack_embed(OUTPUT ${W_OUTPUT} SYMBOL web_files BASE ${stage} FILES ${embed_files})
endfunction()
