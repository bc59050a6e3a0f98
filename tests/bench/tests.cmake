# Short versions of benchmarks 1 and 2 (bench/run, docs/benchmarks.md): they
# assert that things work (the bundle carries data over all three emulated
# links, a TCP flow survives a link outage, the results are written), never
# figures. Root required (fails, never skips, without it).
foreach(c aggregation failover)
  add_test(NAME bench/${c}-short
    COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/test_bench_short.py --build ${CMAKE_BINARY_DIR}
            --workdir ${CMAKE_BINARY_DIR}/tests/bench-run ${c})
  set_tests_properties(bench/${c}-short PROPERTIES LABELS "bench" TIMEOUT 150
    ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endforeach()
