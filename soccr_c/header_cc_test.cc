// <soccr/soccr.h> compiled as C++: the same names, types and values as in
// C, the declarations inside extern "C", and the layout assertions as
// static_assert.

#include <soccr/soccr.h>

#include <cstddef>
#include <type_traits>

#include "gtest/gtest.h"

namespace {

static_assert(sizeof(libsoccr_sk_data) == 68, "libsoccr's size");
static_assert(std::is_standard_layout<libsoccr_sk_data>::value,
              "a plain C struct");
static_assert(
    std::is_same<decltype(&libsoccr_save),
                 int (*)(libsoccr_sk*, libsoccr_sk_data*, unsigned)>::value,
    "libsoccr_save's signature");
static_assert(
    std::is_same<decltype(&libsoccr_get_addr),
                 libsoccr_addr* (*)(libsoccr_sk*, int, unsigned)>::value,
    "libsoccr_get_addr's signature");
static_assert(
    std::is_same<decltype(&libsoccr_set_log),
                 void (*)(unsigned int,
                          void (*)(unsigned int, const char*, ...))>::value,
    "libsoccr_set_log's signature");

TEST(HeaderTest, ValuesAreLibsoccrs) {
  EXPECT_EQ(SOCCR_FLAGS_WINDOW, 0x1);
  EXPECT_EQ(SOCCR_MEM_EXCL, 0x1);
  EXPECT_EQ(SOCCR_MARK, 0xC114);
  EXPECT_EQ(SOCCR_LOG_ERR, 1);
  EXPECT_EQ(SOCCR_LOG_DBG, 2);
  EXPECT_EQ(TCP_RECV_QUEUE, 1);
  EXPECT_EQ(TCP_SEND_QUEUE, 2);
  EXPECT_EQ(offsetof(libsoccr_sk_data, timestamp), 40u);
  EXPECT_EQ(offsetof(libsoccr_sk_data, snd_wl1), 48u);
}

TEST(HeaderTest, CallsLinkWithCLinkage) {
  EXPECT_EQ(libsoccr_pause(-1), nullptr);
  EXPECT_EQ(libsoccr_restore(nullptr, nullptr, 0), -1);
}

}  // namespace
