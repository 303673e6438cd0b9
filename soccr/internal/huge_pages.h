// soccr/internal/huge_pages.h: whether this kernel gives transparent huge
// pages to memory that asks for them, for the queue buffers of both APIs.
//
//   if (internal::HugePagesOnRequest()) madvise(p, n, MADV_HUGEPAGE);

#ifndef SOCCR_INTERNAL_HUGE_PAGES_H_
#define SOCCR_INTERNAL_HUGE_PAGES_H_

#include <stddef.h>

namespace soccr::internal {

// The size of a transparent huge page on x86-64 and arm64 with 4 KiB pages.
inline constexpr size_t kHugePage = size_t{2} << 20;

// Whether THP is "always" or "madvise" (/sys/kernel/mm/transparent_hugepage/
// enabled), so that a region marked MADV_HUGEPAGE gets huge pages when it
// is faulted in. With "never", or where the file cannot be read, false:
// such a region would be faulted in 4 KiB pages one by one. Read once per
// process.
bool HugePagesOnRequest();

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_HUGE_PAGES_H_
