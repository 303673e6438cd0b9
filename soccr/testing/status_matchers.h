// soccr/testing/status_matchers.h: gMock matchers for absl::Status and
// absl::StatusOr (Debian's Abseil ships none).
//
//   EXPECT_THAT(soccr::Restore(state).status(),
//               StatusIs(absl::StatusCode::kInvalidArgument,
//                        ::testing::HasSubstr("inq_len")));
//   EXPECT_THAT(soccr::Checkpoint(*paused),
//               StatusIs(absl::StatusCode::kUnavailable));
//
// On a mismatch the status (code and message) is printed.

#ifndef SOCCR_TESTING_STATUS_MATCHERS_H_
#define SOCCR_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace soccr::testing {
namespace status_matchers_internal {

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

template <typename CodeMatcher, typename MessageMatcher>
class StatusIsMatcher {
 public:
  StatusIsMatcher(CodeMatcher code, MessageMatcher message)
      : code_(::testing::SafeMatcherCast<absl::StatusCode>(code)),
        message_(::testing::SafeMatcherCast<const std::string&>(message)) {}

  template <typename T>
  bool MatchAndExplain(const T& value,
                       ::testing::MatchResultListener* listener) const {
    const absl::Status& status = StatusOf(value);
    *listener << "which is " << status;
    return code_.Matches(status.code()) &&
           message_.Matches(std::string(status.message()));
  }
  void DescribeTo(std::ostream* os) const {
    *os << "is a status whose code ";
    code_.DescribeTo(os);
    *os << " and whose message ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "is not a status whose code ";
    code_.DescribeTo(os);
    *os << " and whose message ";
    message_.DescribeTo(os);
  }

 private:
  ::testing::Matcher<absl::StatusCode> code_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace status_matchers_internal

// Matches an absl::Status or absl::StatusOr<T> whose code matches `code`
// (a StatusCode or a matcher of one) and whose message matches `message`.
template <typename CodeMatcher, typename MessageMatcher>
::testing::PolymorphicMatcher<
    status_matchers_internal::StatusIsMatcher<CodeMatcher, MessageMatcher>>
StatusIs(CodeMatcher code, MessageMatcher message) {
  return ::testing::MakePolymorphicMatcher(
      status_matchers_internal::StatusIsMatcher<CodeMatcher, MessageMatcher>(
          code, message));
}

// The same, whatever the message.
template <typename CodeMatcher>
auto StatusIs(CodeMatcher code) {
  return StatusIs(code, ::testing::_);
}

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_STATUS_MATCHERS_H_
