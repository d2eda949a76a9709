# What `cmake --install` puts where (and so what the Debian package of scripts/deb.sh holds):
# the binary, the manual page and shell completions generated from the binary's own tables,
# the systemd unit and the default settings file.
include(GNUInstallDirs)

set(oc_gen ${CMAKE_BINARY_DIR}/share)
add_custom_command(
  OUTPUT ${oc_gen}/oncue.1 ${oc_gen}/oncue.bash ${oc_gen}/_oncue
  COMMAND ${CMAKE_COMMAND} -E make_directory ${oc_gen}
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 $<TARGET_FILE:oncue> docs man > ${oc_gen}/oncue.1
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 $<TARGET_FILE:oncue> docs bash > ${oc_gen}/oncue.bash
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 $<TARGET_FILE:oncue> docs zsh > ${oc_gen}/_oncue
  DEPENDS oncue
  COMMENT "oncue: the man page and shell completions")
add_custom_target(oncue_share ALL DEPENDS ${oc_gen}/oncue.1 ${oc_gen}/oncue.bash ${oc_gen}/_oncue)

install(TARGETS oncue RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${oc_gen}/oncue.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${oc_gen}/oncue.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME oncue)
install(FILES ${oc_gen}/_oncue DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
# systemd looks in /lib/systemd/system (Debian) whatever the prefix; /etc is absolute too
set(ONCUE_UNIT_DIR "/lib/systemd/system" CACHE PATH "where the systemd unit is installed")
set(ONCUE_CONF_DIR "/etc/oncue" CACHE PATH "where the default oncue.yaml is installed")
install(FILES packaging/oncue.service packaging/oncue-drills.service packaging/oncue-drills.timer
        DESTINATION ${ONCUE_UNIT_DIR})
install(FILES packaging/oncue.yaml DESTINATION ${ONCUE_CONF_DIR})
install(FILES examples/drills.yaml DESTINATION ${ONCUE_CONF_DIR})
# the Grafana dashboards on the Prometheus-compatible API (docs/internals/promql.md)
install(DIRECTORY packaging/grafana/ DESTINATION ${CMAKE_INSTALL_DATADIR}/oncue/grafana
        FILES_MATCHING PATTERN "*.json")
