// soccr/field_list.h: a struct's fields as data, so that what must cover
// every field (equality, tests that perturb each one) is written once.
//
// A field list is a tuple of Field (a name and a pointer to member), one
// per member, in declaration order. A struct opts in with an inline
// constexpr list and a FieldListOf overload beside it (found by
// argument-dependent lookup), and gets VisitFields and FieldsEqual;
// EveryMemberIsListed makes adding a member without listing it a compile
// error:
//
//   struct Point {
//     int x = 0;
//     int y = 0;
//   };
//   inline constexpr auto kPointFields = std::make_tuple(
//       soccr::Field{"x", &Point::x}, soccr::Field{"y", &Point::y});
//   constexpr const auto& FieldListOf(const Point&) { return kPointFields; }
//   static_assert(soccr::EveryMemberIsListed<Point>(),
//                 "Point's members and kPointFields differ");
//
//   inline bool operator==(const Point& a, const Point& b) {
//     return soccr::FieldsEqual(a, b);
//   }
//
//   inline std::string PointToString(const Point& p) {
//     std::string s;
//     soccr::VisitFields(p, [&](const char* name, int value) {
//       absl::StrAppend(&s, name, "=", value, " ");  // "x=0 y=0 "
//     });
//     return s;
//   }

#ifndef SOCCR_FIELD_LIST_H_
#define SOCCR_FIELD_LIST_H_

#include <stddef.h>

#include <tuple>
#include <type_traits>
#include <utility>

namespace soccr {

// Field: one member of struct S, of type M, and its name as the code
// spells it. `Field{"x", &Point::x}` deduces S and M.
template <typename S, typename M>
struct Field {
  using Struct = S;
  using Type = M;
  const char* name;
  M S::*member;
};
template <typename S, typename M>
Field(const char*, M S::*) -> Field<S, M>;

// FieldCount<S>(): how many fields FieldListOf(S) lists.
template <typename S>
constexpr size_t FieldCount() {
  return std::tuple_size_v<
      std::decay_t<decltype(FieldListOf(std::declval<const S&>()))>>;
}

// HasFieldList<T>::value: T has a field list (a FieldListOf(const T&)
// found for it), so that generic code can recurse into it.
template <typename T, typename = void>
struct HasFieldList : std::false_type {};
template <typename T>
struct HasFieldList<
    T, std::void_t<decltype(FieldListOf(std::declval<const T&>()))>>
    : std::true_type {};

// VisitFields(s, f): calls f(name, member) for each listed field of `s`
// (const or not), in list order; `member` is a reference into `s`.
template <typename S, typename F>
void VisitFields(S& s, F&& f) {
  std::apply(
      [&](const auto&... field) { (f(field.name, s.*field.member), ...); },
      FieldListOf(static_cast<const std::decay_t<S>&>(s)));
}

// FieldsEqual(a, b): every listed field of `a` == the same of `b` (each
// with its own operator==).
template <typename S>
bool FieldsEqual(const S& a, const S& b) {
  return std::apply(
      [&](const auto&... field) {
        return ((a.*field.member == b.*field.member) && ...);
      },
      FieldListOf(a));
}

// EveryMemberIsListed<S>(): true, or a compile error when aggregate S has
// a different number of members than its field list: S is decomposed with
// a structured binding of FieldCount<S>() names, which does not compile
// when the counts differ ("N names provided" / "decomposes into M
// elements"). A list of the right length that names a member twice and
// leaves another out is not caught here; the tests that perturb each
// field in turn catch it.
template <typename S>
constexpr bool EveryMemberIsListed() {
  constexpr size_t n = FieldCount<S>();
  static_assert(n >= 1 && n <= 24, "EveryMemberIsListed handles 1 to 24");
  [[maybe_unused]] auto bind = [](const S& s) {
    if constexpr (n == 1) {
      [[maybe_unused]] const auto& [a] = s;
    } else if constexpr (n == 2) {
      [[maybe_unused]] const auto& [a, b] = s;
    } else if constexpr (n == 3) {
      [[maybe_unused]] const auto& [a, b, c] = s;
    } else if constexpr (n == 4) {
      [[maybe_unused]] const auto& [a, b, c, d] = s;
    } else if constexpr (n == 5) {
      [[maybe_unused]] const auto& [a, b, c, d, e] = s;
    } else if constexpr (n == 6) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f] = s;
    } else if constexpr (n == 7) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g] = s;
    } else if constexpr (n == 8) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h] = s;
    } else if constexpr (n == 9) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i] = s;
    } else if constexpr (n == 10) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j] = s;
    } else if constexpr (n == 11) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k] = s;
    } else if constexpr (n == 12) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l] = s;
    } else if constexpr (n == 13) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m] = s;
    } else if constexpr (n == 14) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_] =
          s;
    } else if constexpr (n == 15) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o] = s;
    } else if constexpr (n == 16) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p] = s;
    } else if constexpr (n == 17) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p, q] = s;
    } else if constexpr (n == 18) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p, q, r] = s;
    } else if constexpr (n == 19) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p, q, r, s_] = s;
    } else if constexpr (n == 20) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p, q, r, s_, t] = s;
    } else if constexpr (n == 21) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p, q, r, s_, t, u] = s;
    } else if constexpr (n == 22) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p, q, r, s_, t, u, v] = s;
    } else if constexpr (n == 23) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p, q, r, s_, t, u, v, w] = s;
    } else if constexpr (n == 24) {
      [[maybe_unused]] const auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_,
                                    o, p, q, r, s_, t, u, v, w, x] = s;
    }
  };
  return true;
}

}  // namespace soccr

#endif  // SOCCR_FIELD_LIST_H_
