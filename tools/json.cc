#include "tools/json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace soccr::tools {

std::string JsonQuote(absl::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "\\u%04x", u);
    }
  }
  out.push_back('"');
  return out;
}

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_element_.empty()) return;
  if (has_element_.back()) out_.push_back(',');
  has_element_.back() = true;
  out_.push_back('\n');
  out_.append(2 * has_element_.size(), ' ');
}

void JsonWriter::Open(char c) {
  Separate();
  out_.push_back(c);
  has_element_.push_back(false);
}

void JsonWriter::Close(char c) {
  const bool had = has_element_.back();
  has_element_.pop_back();
  if (had) {
    out_.push_back('\n');
    out_.append(2 * has_element_.size(), ' ');
  }
  out_.push_back(c);
}

void JsonWriter::BeginObject() { Open('{'); }
void JsonWriter::EndObject() { Close('}'); }
void JsonWriter::BeginArray() { Open('['); }
void JsonWriter::EndArray() { Close(']'); }

void JsonWriter::Key(absl::string_view key) {
  Separate();
  absl::StrAppend(&out_, JsonQuote(key), ": ");
  after_key_ = true;
}

void JsonWriter::String(absl::string_view value) {
  Separate();
  out_ += JsonQuote(value);
}

void JsonWriter::Int(int64_t value) {
  Separate();
  absl::StrAppend(&out_, value);
}

void JsonWriter::Uint(uint64_t value) {
  Separate();
  absl::StrAppend(&out_, value);
}

void JsonWriter::Bool(bool value) {
  Separate();
  out_ += value ? "true" : "false";
}

void JsonWriter::Null() {
  Separate();
  out_ += "null";
}

std::string JsonWriter::Take() && {
  out_.push_back('\n');
  return std::move(out_);
}

}  // namespace soccr::tools
