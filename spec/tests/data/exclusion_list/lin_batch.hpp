// TEST ONLY: what check_no_exclusions.cmake must reject (spec.no_exclusion_check_rejects_a_list).
// Known findings against the reference lanes: cases kept in the catalog at INFORMATIONAL level.
inline constexpr const char* kSetAside[] = {"Informational.Events.BatchLinearizable.Block.ProducerKilled"};
