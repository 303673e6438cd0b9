#include "tools/json.h"

#include <string>

#include "gtest/gtest.h"

namespace soccr::tools {
namespace {

TEST(JsonQuoteTest, EscapesEverythingOutsidePrintableAscii) {
  EXPECT_EQ(JsonQuote("plain text"), "\"plain text\"");
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuote("l1\nl2\tx"), "\"l1\\nl2\\tx\"");
  EXPECT_EQ(JsonQuote(std::string("\0\x1b\x7f\xff", 4)),
            "\"\\u0000\\u001b\\u007f\\u00ff\"");
  EXPECT_EQ(JsonQuote(""), "\"\"");
}

TEST(JsonWriterTest, NestsAndIndents) {
  JsonWriter j;
  j.BeginObject();
  j.Key("n");
  j.Uint(18446744073709551615u);
  j.Key("neg");
  j.Int(-5);
  j.Key("list");
  j.BeginArray();
  j.Bool(true);
  j.Null();
  j.BeginObject();
  j.EndObject();
  j.EndArray();
  j.Key("empty");
  j.BeginArray();
  j.EndArray();
  j.Key("s");
  j.String("x\"y");
  j.EndObject();
  EXPECT_EQ(std::move(j).Take(),
            "{\n"
            "  \"n\": 18446744073709551615,\n"
            "  \"neg\": -5,\n"
            "  \"list\": [\n"
            "    true,\n"
            "    null,\n"
            "    {}\n"
            "  ],\n"
            "  \"empty\": [],\n"
            "  \"s\": \"x\\\"y\"\n"
            "}\n");
}

}  // namespace
}  // namespace soccr::tools
