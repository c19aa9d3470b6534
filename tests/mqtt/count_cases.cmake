# Fails when broker_test.cpp has a TEST_CASE that tests/CMakeLists.txt's broker_cases does not list
# (it would never run). cmake -DSRC=broker_test.cpp -DLISTED=N -P count_cases.cmake
file(STRINGS "${SRC}" cases REGEX "^TEST_CASE\\(")
list(LENGTH cases n)
if(NOT n EQUAL LISTED)
  message(FATAL_ERROR "${SRC} has ${n} TEST_CASEs and tests/CMakeLists.txt lists ${LISTED} in broker_cases: list each one")
endif()
