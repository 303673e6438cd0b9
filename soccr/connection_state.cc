#include "soccr/connection_state.h"

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace soccr {
namespace {

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename S>
void AppendFields(std::string& out, const S& s);

// One field's value, in the form ToString() documents for its type. A
// member of a type not handled here does not compile until it is given a
// form: ToString() leaves no member out.
template <typename T>
void AppendValue(std::string& out, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    out.push_back(v ? '1' : '0');
  } else if constexpr (std::is_integral_v<T>) {
    absl::StrAppend(&out, +v);  // + so that a uint8_t is a number
  } else if constexpr (std::is_same_v<T, TcpState>) {
    absl::StrAppend(&out, TcpStateName(v));
  } else if constexpr (std::is_same_v<T, SocketAddress>) {
    out.append(v.ToString());
  } else if constexpr (std::is_same_v<T, QueueBytes>) {
    absl::StrAppend(&out, "<", v.size(), " bytes>");
  } else if constexpr (std::is_same_v<T, std::vector<SocketOption>>) {
    absl::StrAppend(&out, "[",
                    absl::StrJoin(v, " ",
                                  [](std::string* o, const SocketOption& opt) {
                                    o->append(SocketOptionToString(opt));
                                  }),
                    "]");
  } else if constexpr (IsOptional<T>::value) {
    if (v.has_value()) {
      AppendValue(out, *v);
    } else {
      out.append("none");
    }
  } else if constexpr (HasFieldList<T>::value) {
    out.push_back('{');
    AppendFields(out, v);
    out.push_back('}');
  } else {
    static_assert(sizeof(T) == 0, "say how ToString() shows this type");
  }
}

// "name=value" for each field of `s`'s list, in list order, separated by
// spaces.
template <typename S>
void AppendFields(std::string& out, const S& s) {
  bool first = true;
  VisitFields(s, [&](const char* name, const auto& value) {
    absl::StrAppend(&out, first ? "" : " ", name, "=");
    first = false;
    AppendValue(out, value);
  });
}

}  // namespace

std::string ConnectionState::Endpoints() const {
  return absl::StrCat(local.ToString(), "->", peer.ToString());
}

std::string ConnectionState::ToString() const {
  std::string s;
  AppendFields(s, *this);
  return s;
}

bool operator==(const ConnectionState& a, const ConnectionState& b) {
  return FieldsEqual(a, b);
}

// Each struct has exactly the members its field list lists (a structured
// binding of the list's length must decompose it): a member added to a
// struct and not to its list stops the build here.
static_assert(EveryMemberIsListed<TcpOptions>());
static_assert(EveryMemberIsListed<TcpWindow>());
static_assert(EveryMemberIsListed<SocketBuffers>());
static_assert(EveryMemberIsListed<ConnectionState>());

}  // namespace soccr
