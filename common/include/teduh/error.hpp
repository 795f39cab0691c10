#pragma once
// Errors as values, one shape for every layer (STYLE.md, "Errors are values").
//
// Each layer keeps its own code enum (`teduh::crypto::Errc`, `teduh::schema::Errc`,
// `teduh::sync::Errc`, `teduh::server::Errc`, `teduh::client::Errc`): the category a caller of
// that layer can act on. Everything else is one definition, here:
//
//   Error<Code>      a code and one sentence a person can read (never a secret, never a
//                    field value of a case);
//   Result<T, Code>  tl::expected<T, Error<Code>>; every function returning one is
//                    [[nodiscard]] (the type itself is, so a dropped result warns);
//   fail(code, msg)  the unexpected value to return;
//   TEDUH_TRY(expr)  propagation: evaluates a Result of the enclosing function's own error
//                    type; on failure returns its error from the enclosing function, else
//                    yields the value (or nothing for Result<void>): `auto v = TEDUH_TRY(f());`
//   lift(r, convert) the crossing of a layer boundary: the one conversion function of that
//                    boundary (e.g. client's from_schema) applied to a lower layer's result.
//                    `TEDUH_TRY(lift(store_call(), from_schema))`.
//
// TEDUH_TRY is a statement expression (a GNU extension that g++ and clang accept, marked
// __extension__ so -Wpedantic stays quiet); it cannot be used in a coroutine (it `return`s).
#include <string>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

namespace teduh {

template <class Code>
struct Error {
  Code code;
  std::string message;
};

template <class T, class Code>
using Result = tl::expected<T, Error<Code>>;

template <class Code>
[[nodiscard]] inline tl::unexpected<Error<Code>> fail(Code code, std::string message) {
  return tl::unexpected<Error<Code>>(Error<Code>{code, std::move(message)});
}

// A lower layer's result as this layer's, through the boundary's one conversion.
template <class T, class From, class Convert>
[[nodiscard]] auto lift(tl::expected<T, Error<From>> r, Convert&& convert)
    -> tl::expected<T, std::invoke_result_t<Convert, const Error<From>&>> {
  if (!r) return tl::unexpected(convert(r.error()));
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return std::move(*r);
  }
}

namespace detail {
template <class T, class E>
T take_value(tl::expected<T, E>&& r) {
  if constexpr (std::is_void_v<T>) {
    return;
  } else {
    return std::move(*r);
  }
}
}  // namespace detail

}  // namespace teduh

// `r` is the name of the variable the macro declares, not an expression: it cannot be
// parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define TEDUH_TRY_CONCAT_(a, b) a##b
#define TEDUH_TRY_CONCAT(a, b) TEDUH_TRY_CONCAT_(a, b)
#define TEDUH_TRY_IMPL_(r, expr)                                 \
  __extension__({                                                \
    auto r = (expr);                                             \
    if (!r) return ::tl::unexpected(std::move(r).error());       \
    ::teduh::detail::take_value(std::move(r));                   \
  })
#define TEDUH_TRY(expr) TEDUH_TRY_IMPL_(TEDUH_TRY_CONCAT(teduh_try_, __COUNTER__), expr)
// NOLINTEND(bugprone-macro-parentheses)
