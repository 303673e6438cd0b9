// tools/json.h: a small JSON writer for `soccr inspect --json`.
//
//   soccr::tools::JsonWriter j;
//   j.BeginObject();
//   j.Key("state");
//   j.String("ESTABLISHED");
//   j.Key("inq_len");
//   j.Uint(21);
//   j.EndObject();
//   std::string text = std::move(j).Take();  // {"state": "ESTABLISHED", ...}
//
// Strings are byte strings (an image may hold any bytes in a socket
// option's value): printable ASCII is written as it is, `"` and `\` are
// escaped, and every other byte as \u00XX, its value. The output is valid
// JSON whatever the input; a reader gets each byte back as the code point
// of the same number.
//
// The writer trusts its caller to nest calls correctly (a Key before each
// value in an object, every Begin closed); it is not a validator.

#ifndef SOCCR_TOOLS_JSON_H_
#define SOCCR_TOOLS_JSON_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace soccr::tools {

// `bytes` as a quoted JSON string, escaped as described above.
std::string JsonQuote(absl::string_view bytes);

class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // The key of the next value (inside an object).
  void Key(absl::string_view key);
  void String(absl::string_view value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  void Bool(bool value);
  void Null();

  // The document, indented by two spaces per level, with a final newline.
  std::string Take() &&;

 private:
  // Before a value or a key: the comma and line break it needs.
  void Separate();
  void Open(char c);
  void Close(char c);

  std::string out_;
  // Per open object or array: whether it has an element yet.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_JSON_H_
