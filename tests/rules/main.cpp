// doctest's main for every suite, with one rule of ours (issue 57): a run whose filters match no
// test case fails. CTest runs each suite's files (-sf) and each broker case (-tc) as tests of their
// own, by name (tests/CMakeLists.txt); a filter that no longer names a case (a case renamed, a
// pattern mistyped) ran nothing and passed with 0 assertions.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

bool g_run_ended = false;
unsigned g_matched = 0;  // test cases that passed the filters (and were not skipped)

// A listener: told the run's figures at its end, beside the reporter the command line chose.
struct MatchedCases final : doctest::IReporter {
  explicit MatchedCases(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& s) override {
    g_run_ended = true;
    g_matched = s.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

REGISTER_LISTENER("matched_cases", 1, MatchedCases);

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (context.shouldExit() || rc != 0) return rc;  // a query (--list-test-cases, --help), or a failure
  if (g_run_ended && g_matched == 0) {
    std::fprintf(stderr, "doctest: no test case matches the filters given: a run of nothing fails\n");
    return 1;
  }
  return rc;
}
